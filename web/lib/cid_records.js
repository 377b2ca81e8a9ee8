// Pure data helpers: wrap model records for the list (title, category, status), thumbnails.
// Search, filters, sort and facets are the server's (GET models / GET facets).
// No DOM, no side effects on import (ComfyUI imports every .js file under web/).

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

/** Wrap records once with what the list rows show. */
export function indexRecords(records) {
  return records.map((record) => {
    const info = record.civitai_info || {};
    return {
      record,
      key: `${record.folder}/${record.name}`,
      title: recordTitle(record),
      category: record.category || record.folder || "other",
      baseModel: info.base_model || "",
      status: record.status || "not_checked",
    };
  });
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
