// The panel's stylesheet: ComfyUI's CSS variables (so light and dark themes both fit), every
// class under the .cid- prefix. injectStyle() adds one <style> element, once.

const STYLE_ID = "cid-style";

const CSS = `
.cid-panel { display: flex; flex-direction: column; height: 100%; min-height: 0; gap: 6px;
  padding: 8px; box-sizing: border-box; color: var(--fg-color, #ddd);
  background: var(--comfy-menu-bg, #353535); font-size: 13px; font-family: inherit; }
.cid-panel * { box-sizing: border-box; }
.cid-panel { container-type: inline-size; }
@container (max-width: 300px) {
  /* ComfyUI's default sidebar is narrow: the row badge becomes a dot (label in its title) */
  .cid-item .cid-badge { font-size: 0; width: 9px; height: 9px; padding: 0; border: none;
    background: currentColor; }
  .cid-thumb { width: 36px; height: 36px; }
}
.cid-head { display: flex; align-items: center; gap: 8px; }
.cid-head h2 { font-size: 15px; margin: 0; flex: 1; font-weight: 600; }
.cid-muted { color: var(--descrip-text, #999); }
.cid-small { font-size: 11px; }
.cid-btn { background: var(--comfy-input-bg, #222); color: var(--input-text, #ddd);
  border: 1px solid var(--border-color, #4e4e4e); border-radius: 4px; padding: 3px 9px;
  cursor: pointer; font: inherit; white-space: nowrap; }
.cid-btn:hover:not(:disabled) { border-color: var(--p-primary-color, #7aa7ff); }
.cid-btn:disabled { opacity: .5; cursor: default; }
.cid-btn-primary { background: var(--p-primary-color, #3b6fd8);
  color: var(--p-primary-contrast-color, #fff); border-color: transparent; }
.cid-input, .cid-select { background: var(--comfy-input-bg, #222); color: var(--input-text, #ddd);
  border: 1px solid var(--border-color, #4e4e4e); border-radius: 4px; padding: 3px 6px;
  font: inherit; min-width: 0; }
.cid-input { width: 100%; }
.cid-row { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
.cid-row > .cid-select { flex: 1 1 96px; }
.cid-notice { border: 1px solid var(--border-color, #4e4e4e); border-left: 3px solid #d8a03b;
  border-radius: 4px; padding: 6px 8px; display: flex; flex-wrap: wrap; gap: 6px;
  align-items: flex-start; }
.cid-notice > div { flex: 1 1 150px; min-width: 0; }
.cid-notice summary { cursor: pointer; }
.cid-notice-dismissable { position: relative; padding-right: 30px; }
.cid-dismiss { position: absolute; top: 4px; right: 4px; padding: 0 6px; }
.cid-notice code { background: var(--comfy-input-bg, #222); padding: 0 3px; border-radius: 3px; }
.cid-notice-error { border-left-color: var(--error-text, #e5484d); }
.cid-state { padding: 24px 12px; text-align: center; display: flex; flex-direction: column;
  gap: 10px; align-items: center; }
.cid-scan { border: 1px solid var(--border-color, #4e4e4e); border-radius: 4px; padding: 6px; }
.cid-progress { height: 6px; background: var(--comfy-input-bg, #222); border-radius: 3px;
  overflow: hidden; margin: 6px 0 4px; }
.cid-progress > div { height: 100%; width: 0; background: var(--p-primary-color, #3b6fd8);
  transition: width .2s; }
.cid-ellipsis { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.cid-list { flex: 1; min-height: 120px; overflow-y: auto; position: relative;
  border: 1px solid var(--border-color, #4e4e4e); border-radius: 4px; contain: strict; }
.cid-list-spacer { position: relative; width: 100%; }
.cid-item { position: absolute; left: 0; right: 0; display: flex; gap: 8px; align-items: center;
  padding: 4px 6px; cursor: pointer; border-bottom: 1px solid var(--border-color, #4e4e4e); }
.cid-item:hover, .cid-item:focus-visible { background: var(--comfy-input-bg, #222); outline: none; }
.cid-placeholder { position: absolute; left: 0; right: 0; display: flex; gap: 8px;
  align-items: center; padding: 4px 6px; opacity: 0.5;
  border-bottom: 1px solid var(--border-color, #4e4e4e); }
.cid-item-body { flex: 1; min-width: 0; }
.cid-item-title { font-weight: 500; }
.cid-thumb { width: 44px; height: 44px; flex: none; border-radius: 4px; overflow: hidden;
  background: var(--comfy-input-bg, #222); display: flex; align-items: center;
  justify-content: center; color: var(--descrip-text, #999); font-size: 18px; }
.cid-thumb img { width: 100%; height: 100%; object-fit: cover; }
.cid-badge { font-size: 10px; padding: 1px 6px; border-radius: 8px; white-space: nowrap;
  border: 1px solid currentColor; flex: none; }
.cid-s-identified { color: #3fb950; } .cid-s-unknown { color: #d8a03b; }
.cid-s-error { color: var(--error-text, #e5484d); } .cid-s-not_checked { color: var(--descrip-text, #999); }
.cid-s-pending { color: #58a6ff; }
.cid-update { color: #c297ff; margin-right: 4px; }
.cid-item .cid-update { font-size: 10px; width: auto; height: auto; padding: 1px 6px;
  border: 1px solid currentColor; background: none; }
.cid-blur { filter: blur(18px); transform: scale(1.15); }
.cid-details { flex: 1; min-height: 0; overflow-y: auto; display: flex; flex-direction: column; gap: 8px; }
.cid-details h3 { margin: 0; font-size: 15px; }
.cid-details h4 { margin: 6px 0 2px; font-size: 12px; text-transform: uppercase;
  color: var(--descrip-text, #999); }
.cid-gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)); gap: 4px; }
.cid-media { position: relative; aspect-ratio: 2 / 3; overflow: hidden; border-radius: 4px;
  background: var(--comfy-input-bg, #222); cursor: pointer; }
.cid-media img, .cid-media video { width: 100%; height: 100%; object-fit: cover; display: block; }
.cid-media-label { position: absolute; inset: auto 0 0 0; font-size: 10px; text-align: center;
  background: rgba(0, 0, 0, .6); color: #fff; padding: 2px; pointer-events: none; }
.cid-chips { display: flex; flex-wrap: wrap; gap: 4px; }
.cid-chip { font-size: 11px; padding: 1px 7px; border-radius: 10px; cursor: pointer;
  background: var(--comfy-input-bg, #222); border: 1px solid var(--border-color, #4e4e4e);
  color: var(--input-text, #ddd); font-family: inherit; }
.cid-evidence { margin: 2px 0 0; padding-left: 16px; overflow-wrap: anywhere; }
.cid-kv { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; font-size: 12px; }
.cid-kv > :nth-child(odd) { color: var(--descrip-text, #999); }
.cid-hash { font-family: monospace; cursor: pointer; word-break: break-all; }
.cid-hash:hover { text-decoration: underline; }
.cid-desc { font-size: 12px; line-height: 1.45; overflow-wrap: anywhere;
  border-left: 2px solid var(--border-color, #4e4e4e); padding-left: 8px; }
.cid-desc a, .cid-details a { color: var(--p-primary-color, #7aa7ff); }
.cid-desc pre { white-space: pre-wrap; }
.cid-toast { position: fixed; bottom: 16px; left: 50%; transform: translateX(-50%);
  background: var(--comfy-input-bg, #222); color: var(--input-text, #ddd); z-index: 10000;
  border: 1px solid var(--border-color, #4e4e4e); border-radius: 4px; padding: 4px 10px; }
.cid-offscreen { position: fixed; left: -9999px; top: 0; opacity: 0; }
`;

/** Add the stylesheet to `doc` unless it is already there. */
export function injectStyle(doc = document) {
  if (doc.getElementById(STYLE_ID)) return;
  const style = doc.createElement("style");
  style.id = STYLE_ID;
  style.textContent = CSS;
  doc.head.append(style);
}
