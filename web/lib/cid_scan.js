// Scan controls and live progress: start (with an identify mode), cancel, and a progress bar
// fed by the civitai-identify.progress / .done websocket events. No side effects on import.

import { h, formatBytes, formatCount, formatEta, STATUS_LABELS } from "./cid_util.js";

const MODES = [
  ["other", "Look up: “other” files only"],
  ["all", "Look up: all unidentified"],
  ["none", "Hash only (no lookups)"],
];
const PHASES = { listing: "Listing files", hashing: "Hashing", looking_up: "Looking up on CivitAI", previews: "Saving previews", done: "Done" };

/**
 * createScanBar({ onStart(options), onCancel() }) →
 *   { element, showJob(job), showProgress(progress), setBusy(bool) }
 * onStart/onCancel return promises; errors they throw are shown in the bar.
 */
export function createScanBar({ onStart, onCancel }) {
  const mode = h("select", { class: "cid-select", "data-cid": "scan-mode",
    title: "Which files to look up on CivitAI after hashing: those in no ComfyUI model folder (“other”), every file not identified yet, or none" },
    MODES.map(([value, text]) => h("option", { value }, text)));
  const start = h("button", { class: "cid-btn cid-btn-primary", "data-cid": "scan-start" }, "Scan");
  // unticked: the server's CIVITAI_IDENTIFY_PREVIEWS setting decides
  const previews = h("input", { type: "checkbox", "data-cid": "scan-previews" });
  const previewsLabel = h("label", { class: "cid-small",
    title: "Save a CivitAI image as <model>.preview.<ext> beside identified models that have no preview" },
  previews, " save previews next to models");
  const cancel = h("button", { class: "cid-btn", "data-cid": "scan-cancel", hidden: true }, "Cancel");
  const fill = h("div");
  const bar = h("div", { class: "cid-progress", hidden: true }, fill);
  const line1 = h("div", { class: "cid-small", "data-cid": "scan-phase" });
  const line2 = h("div", { class: "cid-muted cid-small cid-ellipsis", "data-cid": "scan-current" });
  const element = h("div", { class: "cid-scan", "data-cid": "scan" },
    h("div", { class: "cid-row" }, mode, start, cancel, previewsLabel), bar, line1, line2);
  let running = false;

  const guard = async (fn) => {
    try {
      await fn();
    } catch (err) {
      line1.textContent = err.message || String(err);
      line1.classList.add("cid-s-error");
    }
  };
  start.addEventListener("click", () => guard(async () => {
    start.disabled = true;
    line1.classList.remove("cid-s-error");
    line1.textContent = "Starting scan…";
    try {
      const options = { folders: "all", identify: mode.value, retry_unknown: false };
      await onStart(previews.checked ? { ...options, write_previews: true } : options);
    } finally {
      if (!running) start.disabled = false;
    }
  }));
  cancel.addEventListener("click", () => guard(async () => {
    cancel.disabled = true;
    line1.textContent = "Cancelling…";
    await onCancel();
  }));

  function setRunning(value) {
    running = value;
    start.disabled = value;
    mode.disabled = value;
    cancel.hidden = !value;
    cancel.disabled = false;
    bar.hidden = !value;
  }

  function showProgress(p) {
    if (!p) return;
    setRunning(p.phase !== "done");
    const looking = p.phase === "looking_up";
    const done = looking ? p.lookups_done : p.bytes_total ? p.bytes_done : p.files_done;
    const total = looking ? p.lookups_total : p.bytes_total ? p.bytes_total : p.files_total;
    const pct = total ? Math.min(100, (100 * (done || 0)) / total) : 0;
    fill.style.width = `${pct.toFixed(1)}%`;
    const counts = looking
      ? `${formatCount(p.lookups_done)} / ${formatCount(p.lookups_total)} lookups`
      : `${formatCount(p.files_done)} / ${formatCount(p.files_total)} files` +
        (p.bytes_total ? ` · ${formatBytes(p.bytes_done || 0)} / ${formatBytes(p.bytes_total)}` : "");
    const eta = p.eta_seconds >= 1 ? ` · about ${formatEta(p.eta_seconds)} left` : "";
    line1.classList.remove("cid-s-error");
    line1.textContent = `${PHASES[p.phase] || p.phase || "Working"}: ${counts}${eta}`;
    line2.textContent = p.current || "";
  }

  /** A job from GET scan, POST scan or the .done event. */
  function showJob(job) {
    if (!job) return;
    if (job.state === "running") {
      setRunning(true);
      showProgress({ ...job.progress, phase: (job.progress && job.progress.phase) || "listing" });
      return;
    }
    setRunning(false);
    line2.textContent = "";
    if (job.state === "error") {
      line1.textContent = `Scan failed: ${job.error || "unknown error"}`;
      line1.classList.add("cid-s-error");
    } else {
      line1.classList.remove("cid-s-error");
      line1.textContent = summaryText(job);
    }
  }

  let modeTouched = false;
  mode.addEventListener("change", () => (modeTouched = true));
  /** The server's default (CIVITAI_IDENTIFY_MODE), unless the user already picked one. */
  function setDefaultMode(value) {
    if (!modeTouched && MODES.some(([v]) => v === value)) mode.value = value;
  }

  return { element, showJob, showProgress, setDefaultMode, get running() { return running; } };
}

function summaryText(job) {
  const word = job.state === "cancelled" ? "Scan cancelled" : "Scan finished";
  const s = job.summary || {};
  const parts = [];
  if (typeof s.files_total === "number") parts.push(`${formatCount(s.files_total)} files`);
  if (s.files_hashed) parts.push(`${formatCount(s.files_hashed)} hashed (${formatBytes(s.bytes_hashed || 0)})`);
  if (typeof s.calls === "number") parts.push(`${formatCount(s.calls)} CivitAI calls`);
  const statuses = Object.entries(s.by_status || {})
    .filter(([, n]) => n)
    .map(([k, n]) => `${formatCount(n)} ${STATUS_LABELS[k] || k}`);
  const took = s.duration_seconds >= 1 ? ` in ${formatEta(s.duration_seconds)}` : "";
  const skipped = (s.skipped && s.skipped.length ? ` ${s.skipped.length} file(s) skipped.` : "")
    + (s.previews ? ` ${formatCount(s.previews)} preview(s) saved.` : "")
    + (s.updates ? ` ${formatCount(s.updates)} with an update.` : "");
  return `${word}${took}: ${parts.join(", ") || "nothing to do"}.${statuses.length ? ` ${statuses.join(", ")}.` : ""}${skipped}`;
}
