// The panel's toolbar: search box, filter menus (filled from GET facets), sort, blur and the
// count line. Builds elements only; the panel wires the events. No side effects on import.

import { h, formatCount, STATUS_LABELS } from "./cid_util.js";

export const BLUR_CHOICES = [[2, "Blur PG-13 and above"], [4, "Blur R and above"], [8, "Blur X and above"],
  [16, "Blur XXX only"], [0, "Blur nothing"]];
const SORTS = [["name", "Sort: name"], ["date", "Sort: newest"], ["size", "Sort: largest"],
  ["downloads", "Sort: most downloaded"]];

/** createToolbar(threshold) → { element, search, selCategory, selBase, selStatus, onlyUpdates,
 *  selSort, selBlur, count, showMenus(facets, filters) } */
export function createToolbar(threshold) {
  const search = h("input", { class: "cid-input", type: "search", "data-cid": "search",
    placeholder: "Search file, model, tag, trigger word…", "aria-label": "Search models" });
  const selCategory = h("select", { class: "cid-select", "data-cid": "filter-category", "aria-label": "Category" });
  const selBase = h("select", { class: "cid-select", "data-cid": "filter-base", "aria-label": "Base model" });
  const selStatus = h("select", { class: "cid-select", "data-cid": "filter-status", "aria-label": "Status" });
  const onlyUpdates = h("input", { type: "checkbox", "data-cid": "filter-update" });
  const selSort = h("select", { class: "cid-select", "data-cid": "sort", "aria-label": "Sort" },
    SORTS.map(([v, t]) => h("option", { value: v }, t)));
  const selBlur = h("select", { class: "cid-select", "data-cid": "blur", title: "Which preview images are blurred until clicked" },
    BLUR_CHOICES.map(([v, t]) => h("option", { value: v }, t)));
  selBlur.value = String(threshold);
  const count = h("span", { class: "cid-muted cid-small", "data-cid": "count" });
  const element = h("div", { class: "cid-toolbar", "data-cid": "toolbar" },
    search,
    h("div", { class: "cid-row", style: "margin-top:6px" }, selCategory, selBase, selStatus, selSort, selBlur,
      h("label", { class: "cid-small", title: "Only models with a newer version for their base model" },
        onlyUpdates, " update available")),
    h("div", { style: "margin-top:4px" }, count));

  function fillSelect(sel, label, entries, current, names = {}) {
    const opts = [h("option", { value: "" }, label)];
    const known = new Set(entries.map(([v]) => v));
    if (current && !known.has(current)) entries = [...entries, [current, 0]];
    for (const [value, n] of entries) opts.push(h("option", { value }, `${names[value] || value} (${formatCount(n)})`));
    sel.replaceChildren(...opts);
    sel.value = current;
  }

  let shown = null; // the facets the menus were built from
  /** The menus for `facets` (rebuilt only when they changed), each on its filter's value. */
  function showMenus(facets, filters) {
    if (facets && shown !== facets) {
      shown = facets;
      fillSelect(selCategory, "All categories", facets.category || [], filters.category);
      fillSelect(selBase, "All base models", facets.base_model || [], filters.baseModel);
      fillSelect(selStatus, "Any status", facets.status || [], filters.status, STATUS_LABELS);
    } else {
      selCategory.value = filters.category;
      selBase.value = filters.baseModel;
      selStatus.value = filters.status;
    }
  }

  return { element, search, selCategory, selBase, selStatus, onlyUpdates, selSort, selBlur, count, showMenus };
}
