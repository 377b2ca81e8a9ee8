// Virtualised model list: only the rows in view (plus a small margin) exist in the DOM,
// reused as the user scrolls, so 100,000 records cost what 30 do. Rows have a fixed height,
// so positions are arithmetic: no measuring, no layout thrash. The items may be a sparse
// array (the pages not loaded yet are holes): a hole in view shows a placeholder row and
// asks for its range with onNeed(first, last). No side effects on import.

import { h, formatBytes, STATUS_LABELS } from "./cid_util.js";
import { isBlurred, smallImageUrl, thumbnailOf } from "./cid_records.js";

export const ROW_HEIGHT = 56;
const OVERSCAN = 6;

/**
 * createModelList({ onSelect, getThreshold, onNeed }) → { element, setItems(items), refresh(),
 * visibleRange() }. `items` come from indexRecords() (holes allowed); onSelect(item) fires
 * on click or Enter; onNeed(first, last) when rows in view have no item yet.
 */
export function createModelList({ onSelect, getThreshold, onNeed = () => {} }) {
  const spacer = h("div", { class: "cid-list-spacer" });
  const element = h("div", { class: "cid-list", role: "list", tabindex: "-1" }, spacer);
  let items = [];
  const rows = new Map(); // index → row element currently shown
  let frame = 0;

  function renderRow(item) {
    const rec = item.record;
    const info = rec.civitai_info || {};
    const thumb = h("div", { class: "cid-thumb" });
    const letter = () => h("span", { "aria-hidden": "true" }, (item.category || "?").charAt(0).toUpperCase());
    const image = thumbnailOf(rec, getThreshold());
    if (image && image.type === "video") {
      thumb.append(h("span", { title: "video preview" }, "▶"));
    } else if (image) {
      thumb.append(
        h("img", {
          src: smallImageUrl(image.url),
          alt: "",
          loading: "lazy",
          decoding: "async",
          referrerpolicy: "no-referrer",
          class: isBlurred(image, getThreshold()) ? "cid-blur" : null,
          // an image CivitAI no longer serves (or a blocked host): the letter tile, not a broken icon
          onerror: (event) => event.target.replaceWith(letter()),
        }),
      );
    } else {
      thumb.append(letter());
    }
    const belongs = rec.suggested_category ? `belongs in ${rec.suggested_category}/` : "";
    const fromFile = item.fromFile ? "from the file" : "";
    const meta = [item.category, belongs, item.kind, item.baseModel, fromFile, formatBytes(rec.size)]
      .filter(Boolean)
      .join(" · ");
    // identified: the file's relative name; otherwise the title is the file name, so show
    // the sub-folder it sits in (if any)
    const dir = rec.name.includes("/") ? rec.name.slice(0, rec.name.lastIndexOf("/") + 1) : "";
    const sub = info.model_name ? rec.name : dir;
    const line = sub ? `${sub} · ${meta}` : meta; // whole on hover when the row cuts it
    return h(
      "div",
      {
        class: "cid-item",
        role: "listitem",
        tabindex: "0",
        title: rec.name,
        dataset: { key: item.key },
        onclick: () => onSelect(item),
        onkeydown: (e) => e.key === "Enter" && onSelect(item),
      },
      thumb,
      h(
        "div",
        { class: "cid-item-body" },
        h("div", { class: "cid-item-title cid-ellipsis" }, item.title),
        h("div", { class: "cid-muted cid-small cid-ellipsis", title: line }, line),
      ),
      rec.update && h("span", { class: "cid-badge cid-update", "data-cid": "update-badge",
        title: `Update: ${rec.update.version_name || "a newer version"} (${rec.update.base_model})` }, "Update"),
      h("span", { class: `cid-badge cid-s-${item.status}`, title: STATUS_LABELS[item.status] || item.status },
        STATUS_LABELS[item.status] || item.status),
    );
  }

  function placeholder() {
    return h("div", { class: "cid-placeholder", "aria-busy": "true", dataset: { placeholder: "1" } },
      h("div", { class: "cid-thumb" }), h("div", { class: "cid-item-body cid-muted cid-small" }, "…"));
  }

  function range() {
    const top = element.scrollTop;
    const height = element.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(items.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    return [first, last];
  }

  function render() {
    frame = 0;
    const [first, last] = range();
    for (const [index, row] of rows) {
      if (index < first || index >= last) {
        row.remove();
        rows.delete(index);
      }
    }
    const fresh = document.createDocumentFragment();
    let missing = false;
    for (let i = first; i < last; i++) {
      const held = rows.get(i);
      if (held && held.cidItem === items[i]) continue; // the same record (or still a hole) is on screen
      if (held) held.remove();
      if (!items[i]) missing = true;
      const row = items[i] ? renderRow(items[i]) : placeholder();
      row.cidItem = items[i];
      row.style.transform = `translateY(${i * ROW_HEIGHT}px)`;
      row.style.height = `${ROW_HEIGHT}px`;
      rows.set(i, row);
      fresh.append(row);
    }
    spacer.append(fresh);
    if (missing) onNeed(first, last);
  }

  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(render);
  };
  element.addEventListener("scroll", schedule, { passive: true });
  if (typeof ResizeObserver === "function") new ResizeObserver(schedule).observe(element);

  return {
    element,
    /** Show `next`; keeps the scroll position unless `resetScroll`. Only rows whose item
     *  changed are rebuilt (a page arriving, a refresh answering the same records). */
    setItems(next, { resetScroll = false } = {}) {
      items = next;
      spacer.style.height = `${items.length * ROW_HEIGHT}px`;
      if (resetScroll) element.scrollTop = 0;
      render();
    },
    /** Rebuild every row (the blur threshold changed). */
    refresh() {
      for (const row of rows.values()) row.remove();
      rows.clear();
      render();
    },
    /** [first, last) indexes of the rows in view (with the overscan margin). */
    visibleRange() {
      return range();
    },
    get renderedRows() {
      return rows.size;
    },
  };
}
