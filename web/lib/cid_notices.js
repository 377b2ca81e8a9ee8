// Notices and empty/loading/error states: each tells the user what to do next.
// No side effects on import.

import { h } from "./cid_util.js";

/** CIVITAI_TOKEN is missing: explain where it goes; dismissible, never blocks the panel. */
export function tokenNotice(onDismiss) {
  return h("div", { class: "cid-notice cid-notice-dismissable", "data-cid": "token-notice" },
    h("details", {},
      h("summary", {}, h("b", {}, "No CivitAI API token."), " Most models work without one. How to add one…"),
      h("div", { class: "cid-small", style: "margin-top:4px" },
        "Models that need a login show as errors without a token. Set ",
        h("code", {}, "CIVITAI_TOKEN"),
        " in the environment, or put the line ",
        h("code", {}, "CIVITAI_TOKEN=your-key"),
        " in a ",
        h("code", {}, ".env"),
        " file in the pack folder (custom_nodes/civitai-identify) or in ComfyUI's folder, then restart ComfyUI. ",
        "Create a key on civitai.com under Account settings → API keys. The key stays on the server: never paste it here.")),
    h("button", { class: "cid-btn cid-dismiss", title: "Hide", onclick: onDismiss, "aria-label": "Hide" }, "×"));
}

/** An error with buttons: actions is a list of [label, onClick]. */
export function errorsNotice(text, actions = []) {
  return h("div", { class: "cid-notice cid-notice-error", "data-cid": "error-notice" },
    h("div", {}, text),
    ...actions.map(([label, fn]) => h("button", { class: "cid-btn", onclick: fn }, label)));
}

/** A centred state box: kind is "loading" | "empty" | "no-match" | "error". */
export function stateBox(kind, text, actions = []) {
  return h("div", { class: `cid-state cid-state-${kind}`, "data-cid": `state-${kind}` },
    h("div", { class: kind === "error" ? "cid-s-error" : "cid-muted" }, text),
    ...actions.map(([label, fn], i) =>
      h("button", { class: i === 0 ? "cid-btn cid-btn-primary" : "cid-btn", onclick: fn }, label)));
}
