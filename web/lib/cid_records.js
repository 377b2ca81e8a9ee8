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

/** What the file's header says it is, in words (hashing/classify's ``kind`` values). */
export const KIND_LABELS = {
  checkpoint: "Checkpoint",
  diffusion_model: "Diffusion model",
  lora: "LoRA",
  embedding: "Embedding",
  vae: "VAE",
  controlnet: "ControlNet",
  upscaler: "Upscaler",
  text_encoder: "Text encoder",
  clip_vision: "CLIP vision",
  ip_adapter: "IP-Adapter",
};

/**
 * Kind and base model for a record: CivitAI's when it identified the file, else what the
 * file's own header says (then `fromFile` is true, and the panel says so).
 */
export function modelKind(record) {
  const info = record.civitai_info;
  const detected = record.detected || {};
  if (info && (info.type || info.base_model)) {
    return { kind: info.type || KIND_LABELS[detected.kind] || "", baseModel: info.base_model || "", fromFile: false };
  }
  const kind = KIND_LABELS[detected.kind] || "";
  const baseModel = detected.base_model || "";
  return { kind, baseModel, fromFile: Boolean(kind || baseModel) };
}

export function baseName(name) {
  const s = String(name || "");
  return s.slice(s.lastIndexOf("/") + 1);
}

/** Wrap records once with what the list rows show. */
export function indexRecords(records) {
  return records.map((record) => {
    const { kind, baseModel, fromFile } = modelKind(record);
    return {
      record,
      key: `${record.folder}/${record.name}`,
      title: recordTitle(record),
      category: record.category || record.folder || "other",
      baseModel,
      kind,
      fromFile,
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
