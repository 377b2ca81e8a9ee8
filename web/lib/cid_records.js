// Pure data helpers: index model records for fast search, filter, sort, facets.
// No DOM, no side effects on import (ComfyUI imports every .js file under web/).

import { toEpochSeconds } from "./cid_util.js";

/** The line a user recognises: "Model — Version" when identified, else the file name. */
export function recordTitle(record) {
  const info = record.civitai_info;
  if (info && info.model_name) {
    return info.version_name ? `${info.model_name} — ${info.version_name}` : info.model_name;
  }
  return baseName(record.name);
}

export function baseName(name) {
  const s = String(name || "");
  return s.slice(s.lastIndexOf("/") + 1);
}

/** Wrap records once so every keystroke filters precomputed lowercase text. */
export function indexRecords(records) {
  return records.map((record) => {
    const info = record.civitai_info || {};
    const title = recordTitle(record);
    const text = [
      record.name,
      info.model_name,
      info.version_name,
      ...(info.tags || []),
      ...(info.trained_words || []),
    ]
      .filter(Boolean)
      .join("\n")
      .toLowerCase();
    return {
      record,
      key: `${record.folder}/${record.name}`,
      title,
      sortName: title.toLowerCase(),
      text,
      category: record.category || record.folder || "other",
      baseModel: info.base_model || "",
      status: record.status || "not_checked",
      date: toEpochSeconds(record.mtime),
      size: typeof record.size === "number" ? record.size : 0,
    };
  });
}

/** Filter: every whitespace-separated word of `q` must occur in the item's search text. */
export function filterItems(items, { q = "", category = "", baseModel = "", status = "" } = {}) {
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  return items.filter(
    (it) =>
      (!category || it.category === category) &&
      (!baseModel || it.baseModel === baseModel) &&
      (!status || it.status === status) &&
      words.every((w) => it.text.includes(w)),
  );
}

const COMPARE = {
  name: (a, b) => (a.sortName < b.sortName ? -1 : a.sortName > b.sortName ? 1 : 0),
  date: (a, b) => b.date - a.date, // newest first
  size: (a, b) => b.size - a.size, // largest first
};

/** Sort a copy; `key` is "name" | "date" | "size"; ties fall back to the name. */
export function sortItems(items, key = "name") {
  const primary = COMPARE[key] || COMPARE.name;
  return [...items].sort((a, b) => primary(a, b) || COMPARE.name(a, b));
}

/** Distinct values for the filter menus, sorted, with counts. */
export function facets(items) {
  const count = (field) => {
    const map = new Map();
    for (const it of items) if (it[field]) map.set(it[field], (map.get(it[field]) || 0) + 1);
    return [...map.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  };
  return { category: count("category"), baseModel: count("baseModel"), status: count("status") };
}

/** The picture for a list row: the first image under the blur threshold, else the first. */
export function thumbnailOf(record, threshold) {
  const images = (record.civitai_info && record.civitai_info.images) || [];
  if (!images.length) return null;
  return images.find((im) => !isBlurred(im, threshold)) || images[0];
}

/** NSFW levels are CivitAI's bit values: 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX, 32 blocked. */
export function isBlurred(image, threshold) {
  return threshold > 0 && (Number(image.nsfw_level) || 0) >= threshold;
}

/** CivitAI image URLs carry a /width=N/ segment; ask for a small one for thumbnails. */
export function smallImageUrl(url, width = 128) {
  return String(url || "").replace(/\/width=\d+\//, `/width=${width}/`);
}
