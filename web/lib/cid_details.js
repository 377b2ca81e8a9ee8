// Details of one model record: gallery with NSFW blur, sanitized descriptions, creator,
// tags, trigger words and hashes (click to copy), file info, identify/retry.
// No side effects on import.

import { h, copyText, formatBytes, formatCount, formatDate, STATUS_LABELS } from "./cid_util.js";
import { KIND_LABELS, baseName, isBlurred, recordTitle } from "./cid_records.js";
import { safeHref, sanitizeHtml } from "./cid_sanitize.js";

const NSFW_NAMES = { 1: "PG", 2: "PG-13", 4: "R", 8: "X", 16: "XXX", 32: "Blocked" };

/**
 * renderDetails(record, { threshold, onBack, onIdentify, busy, notify, client, onRecord })
 * → element. onIdentify(record, force) is offered for unknown / error / not checked / pending
 * records; with `client` an unknown record gets a "link to a CivitAI version" field and an
 * identified one a "save preview" button, and onRecord(record) takes the updated record.
 */
export function renderDetails(record, ctx) {
  const info = record.civitai_info;
  const status = record.status || "not_checked";
  const root = h("div", { class: "cid-details", "data-cid": "details" });
  const link = info && safeHref(info.url);
  root.append(
    h(
      "div",
      { class: "cid-row" },
      h("button", { class: "cid-btn", onclick: ctx.onBack, "data-cid": "back" }, "← Back"),
      h("span", { class: `cid-badge cid-s-${status}` }, STATUS_LABELS[status] || status),
      link &&
        h("a", { href: link, target: "_blank", rel: "noopener noreferrer", "data-cid": "civitai-link" },
          "Open on CivitAI ↗"),
    ),
    h("h3", {}, recordTitle(record)),
    h("div", { class: "cid-muted cid-small", title: record.name }, `${record.folder}/${record.name}`),
  );
  root.append(actionRow(record, status, ctx));
  if (record.update) root.append(updateNotice(record.update));
  if (ctx.client && status !== "identified" && status !== "pending") root.append(linkField(record, ctx));
  if (status === "error" && record.error) {
    root.append(h("div", { class: "cid-notice cid-notice-error" }, h("div", {}, record.error)));
  }
  for (const warning of record.warnings || []) {
    root.append(h("div", { class: "cid-notice cid-notice-error", "data-cid": "warning" }, h("div", {}, `⚠ ${warning}`)));
  }
  if (info) {
    root.append(gallery(info.images || [], ctx.threshold));
    root.append(section("Model", keyValues(modelFacts(info))));
    if (info.trained_words && info.trained_words.length) {
      root.append(section("Trigger words", chips(info.trained_words, ctx.notify, "trigger")));
    }
    if (info.tags && info.tags.length) root.append(section("Tags", chips(info.tags, null, "tag")));
    if (info.stats) root.append(section("Stats", keyValues(statFacts(info.stats))));
  }
  if (record.detected || record.detect_error) root.append(fromTheFile(record, ctx.notify));
  if (record.notes_trigger_words && record.notes_trigger_words.length) {
    root.append(section("Trigger words (from your notes)", chips(record.notes_trigger_words, ctx.notify, "trigger")));
  }
  const notes = record.user_notes;
  if (notes) {
    root.append(section("Your notes", keyValues([["Activation text", notes.activation_text],
      ["Preferred weight", notes.preferred_weight], ["Negative text", notes.negative_text],
      ["Notes", notes.notes], ["Description", notes.description]])));
  }
  root.append(section("File", keyValues(fileFacts(record, info))));
  root.append(section("Hashes (click to copy)", hashes(record.hashes || {}, ctx.notify)));
  if (info && info.version_description) {
    root.append(section("About this version", description(info.version_description)));
  }
  if (info && info.description) root.append(section("Description", description(info.description)));
  return root;
}

function actionRow(record, status, ctx) {
  const row = h("div", { class: "cid-row" });
  const label = {
    not_checked: "Identify now",
    pending: "Identify now",
    unknown: "Retry",
    error: "Retry",
    identified: "Refresh from CivitAI",
  }[status];
  if (label) {
    const button = h(
      "button",
      {
        class: status === "identified" ? "cid-btn" : "cid-btn cid-btn-primary",
        "data-cid": "identify",
        disabled: ctx.busy,
        onclick: () => ctx.onIdentify(record, status !== "not_checked" && status !== "pending"),
      },
      ctx.busy ? "Identifying…" : label,
    );
    row.append(button);
  }
  if (ctx.client && status === "identified") {
    const button = h("button", { class: "cid-btn", "data-cid": "save-preview",
      title: "Save a CivitAI image as <model>.preview.<ext> beside the file (never overwrites)" },
    "Save preview next to model");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const answer = await ctx.client.preview(record.folder, record.name);
        ctx.notify({ written: "Preview saved next to the model.", exists: "This model already has a preview.",
          no_image: "No CivitAI image under the NSFW limit to save." }[answer.result] || answer.result);
      } catch (err) {
        ctx.notify(err.message);
      } finally {
        button.disabled = false;
      }
    });
    row.append(button);
  }
  if (record.checked_at) row.append(h("span", { class: "cid-muted cid-small" }, `checked ${formatDate(record.checked_at)}`));
  return row;
}

function updateNotice(update) {
  const href = safeHref(update.url);
  return h("div", { class: "cid-notice", "data-cid": "update" },
    h("div", {}, `Update available: ${update.version_name || "a newer version"} for ${update.base_model}`
      + (update.published_at ? `, published ${formatDate(update.published_at)}` : "")),
    href && h("a", { href, target: "_blank", rel: "noopener noreferrer" }, "Open on CivitAI ↗"));
}

/** For a file CivitAI does not know by hash: "this file IS that version" (URL or AIR). */
function linkField(record, ctx) {
  const input = h("input", { class: "cid-input", type: "url", "data-cid": "link-url",
    placeholder: "https://civitai.com/models/…?modelVersionId=… or urn:air:…", "aria-label": "CivitAI URL" });
  const button = h("button", { class: "cid-btn", "data-cid": "link" }, "Link");
  const run = async () => {
    button.disabled = true;
    try {
      const answer = await ctx.client.link(record.folder, record.name, input.value.trim());
      ctx.notify(answer.warning || "Linked to that CivitAI version.");
      ctx.onRecord(answer.record);
    } catch (err) {
      ctx.notify(err.message);
    } finally {
      button.disabled = false;
    }
  };
  button.addEventListener("click", run);
  input.addEventListener("keydown", (e) => e.key === "Enter" && run());
  return section("Link to a CivitAI version",
    h("div", { class: "cid-row", "data-cid": "link-field" }, input, button));
}

function section(title, body) {
  return h("div", {}, h("h4", {}, title), body);
}

function keyValues(pairs) {
  const grid = h("div", { class: "cid-kv" });
  for (const [k, v] of pairs) if (v !== null && v !== undefined && v !== "") grid.append(h("span", {}, k), v instanceof Node ? v : h("span", {}, String(v)));
  return grid;
}

function modelFacts(info) {
  const creator = info.creator && info.creator.username;
  return [
    ["Creator", creator ? creatorLink(creator) : ""],
    ["Type", info.type],
    ["Category", info.category],
    ["Base model", info.base_model],
    ["Matched by", info.matched_by],
    ["Model / version id", info.model_id ? `${info.model_id} / ${info.version_id ?? "?"}` : ""],
    ["Fetched", formatDate(info.fetched_at)],
  ];
}

/** What the file's own header says: kind, base model, precision, trainer metadata. */
function fromTheFile(record, notify) {
  const d = record.detected;
  const box = h("div", { "data-cid": "from-file" }, h("h4", {}, "From the file"));
  if (!d) {
    box.append(h("div", { class: "cid-muted" }, record.detect_error));
    return box;
  }
  if (record.suggested_category) {
    box.append(h("div", { class: "cid-notice", "data-cid": "belongs" }, h("div", {}, `This file belongs in ${record.suggested_category}/`)));
  }
  const params = typeof d.parameters === "number" ? formatCount(d.parameters) : "";
  box.append(keyValues([
    ["Kind", d.kind ? KIND_LABELS[d.kind] || d.kind : "not recognised"],
    ["Base model", d.base_model],
    ["Format", d.format],
    ["Precision", d.precision],
    ["Parameters", params],
    ["Title", d.title],
    ["Author", d.author],
  ]));
  if (d.trigger_phrase) box.append(h("h4", {}, "Trigger phrase"), chips([d.trigger_phrase], notify, "trigger-phrase"));
  const training = d.training || {};
  const facts = Object.entries(training).filter(([k]) => k !== "tags").map(([k, v]) => [k.replace(/_/g, " "), v]);
  if (facts.length) box.append(h("h4", {}, "Training"), keyValues(facts));
  if (training.tags && training.tags.length) {
    box.append(h("h4", {}, "Training tags"), chips(training.tags.map((t) => `${t.tag} (${t.count})`), null, "training-tag"));
  }
  if (d.evidence && d.evidence.length) {
    box.append(h("h4", {}, "Decided by"), h("ul", { class: "cid-muted cid-small cid-evidence", "data-cid": "evidence" },
      ...d.evidence.slice(0, 4).map((e) => h("li", {}, e))));
  }
  return box;
}

function creatorLink(username) {
  const href = safeHref(`https://civitai.com/user/${encodeURIComponent(username)}`);
  return h("a", { href, target: "_blank", rel: "noopener noreferrer" }, username);
}

function statFacts(stats) {
  return Object.entries(stats)
    .filter(([, v]) => typeof v === "number")
    .map(([k, v]) => [k.replace(/_count$/, "").replace(/_/g, " "), formatCount(v)]);
}

function fileFacts(record, info) {
  const file = (info && info.file) || {};
  return [
    ["Name", baseName(record.name)],
    ["Size", formatBytes(record.size)],
    ["Modified", formatDate(record.mtime)],
    ["CivitAI file", file.name],
    ["Format", [file.format, file.fp].filter(Boolean).join(" ")],
  ];
}

function chips(words, notify, kind) {
  const box = h("div", { class: "cid-chips" });
  for (const word of words) {
    if (!notify) {
      box.append(h("span", { class: "cid-chip", "data-cid": kind }, word));
      continue;
    }
    box.append(
      h("button", {
        class: "cid-chip",
        "data-cid": kind,
        title: "Click to copy",
        onclick: async () => notify((await copyText(word)) ? `Copied “${word}”` : "Copy failed"),
      }, word),
    );
  }
  return box;
}

function hashes(map, notify) {
  const pairs = Object.entries(map)
    .filter(([, v]) => v)
    .map(([name, value]) => [
      name,
      h("span", {
        class: "cid-hash",
        "data-cid": "hash",
        title: "Click to copy",
        onclick: async () => notify((await copyText(value)) ? `Copied ${name}` : "Copy failed"),
      }, value),
    ]);
  return pairs.length ? keyValues(pairs) : h("div", { class: "cid-muted" }, "Not hashed yet.");
}

function description(html) {
  const box = h("div", { class: "cid-desc", "data-cid": "description" });
  box.append(sanitizeHtml(html));
  return box;
}

/** Images in a grid; those at or above the threshold are blurred until clicked. */
function gallery(images, threshold) {
  if (!images.length) return h("div", { class: "cid-muted" }, "No preview images.");
  const grid = h("div", { class: "cid-gallery", "data-cid": "gallery" });
  for (const image of images) {
    const src = safeHref(image.url);
    if (!src) continue;
    const blurred = isBlurred(image, threshold);
    const media =
      image.type === "video"
        ? h("video", { src, muted: true, loop: true, playsinline: true, preload: "metadata" })
        : h("img", { src, alt: "", loading: "lazy", referrerpolicy: "no-referrer" });
    if (blurred) media.classList.add("cid-blur");
    const level = NSFW_NAMES[image.nsfw_level];
    const label = blurred ? h("div", { class: "cid-media-label" }, `${level || "NSFW"} · click to show`) : null;
    const cell = h("div", { class: "cid-media", "data-cid": "image", "data-nsfw": image.nsfw_level ?? "" }, media, label);
    cell.addEventListener("click", () => {
      if (media.classList.contains("cid-blur")) {
        media.classList.remove("cid-blur");
        label && label.remove();
      } else if (image.type === "video") {
        media.paused ? media.play().catch(() => {}) : media.pause();
      } else {
        window.open(src, "_blank", "noopener,noreferrer");
      }
    });
    grid.append(cell);
  }
  return grid;
}
