// The sidebar panel: state, layout and wiring between the routes, the list, the details view
// and the scan bar. mountPanel() is called from the tab's render(el); nothing runs on import.

import { h, debounce, throttle, formatCount, STATUS_LABELS } from "./cid_util.js";
import { createClient } from "./cid_api.js";
import { facets, filterItems, indexRecords, sortItems } from "./cid_records.js";
import { createModelList } from "./cid_list.js";
import { renderDetails } from "./cid_details.js";
import { createScanBar } from "./cid_scan.js";
import { injectStyle } from "./cid_style.js";
import { tokenNotice, errorsNotice, stateBox } from "./cid_notices.js";

const BLUR_KEY = "civitai-identify.blurLevel"; // a display preference only, never a secret
const BLUR_CHOICES = [[2, "Blur PG-13 and above"], [4, "Blur R and above"], [8, "Blur X and above"],
  [16, "Blur XXX only"], [0, "Blur nothing"]];
const SORTS = [["name", "Sort: name"], ["date", "Sort: newest"], ["size", "Sort: largest"]];
const LIVE_REFRESH_MS = 4000;

/** Build the panel into `el`; returns { handleEvent(type, detail), reload(), destroy() }. */
export function mountPanel(el, { api }) {
  injectStyle(el.ownerDocument);
  const client = createClient(api);
  const state = {
    items: [], view: [], loading: true, error: null, status: null, selected: null,
    busyKeys: new Set(), filters: { q: "", category: "", baseModel: "", status: "" },
    sort: "name", threshold: readThreshold(), tokenDismissed: false,
  };

  let toastEl = null;
  let toastTimer = 0;
  const toast = (text) => {
    // one toast at a time: a new message replaces the last one
    if (!toastEl) toastEl = h("div", { class: "cid-toast", role: "status", "data-cid": "toast" });
    toastEl.textContent = text;
    document.body.append(toastEl);
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => toastEl.remove(), 1600);
  };
  const list = createModelList({ onSelect: (item) => select(item.key), getThreshold: () => state.threshold });
  const scanBar = createScanBar({
    onStart: async (options) => scanBar.showJob(unwrapJob(await client.scan(options))),
    onCancel: async () => scanBar.showJob(unwrapJob(await client.cancelScan())),
  });

  // Toolbar
  const search = h("input", { class: "cid-input", type: "search", "data-cid": "search",
    placeholder: "Search file, model, tag, trigger word…", "aria-label": "Search models" });
  const selCategory = h("select", { class: "cid-select", "data-cid": "filter-category", "aria-label": "Category" });
  const selBase = h("select", { class: "cid-select", "data-cid": "filter-base", "aria-label": "Base model" });
  const selStatus = h("select", { class: "cid-select", "data-cid": "filter-status", "aria-label": "Status" });
  const selSort = h("select", { class: "cid-select", "data-cid": "sort", "aria-label": "Sort" },
    SORTS.map(([v, t]) => h("option", { value: v }, t)));
  const selBlur = h("select", { class: "cid-select", "data-cid": "blur", title: "Which preview images are blurred until clicked" },
    BLUR_CHOICES.map(([v, t]) => h("option", { value: v }, t)));
  selBlur.value = String(state.threshold);
  const count = h("span", { class: "cid-muted cid-small", "data-cid": "count" });
  const toolbar = h("div", { class: "cid-toolbar", "data-cid": "toolbar" },
    search,
    h("div", { class: "cid-row", style: "margin-top:6px" }, selCategory, selBase, selStatus, selSort, selBlur),
    h("div", { style: "margin-top:4px" }, count));

  const notices = h("div", { class: "cid-notices", "data-cid": "notices" });
  const main = h("div", { class: "cid-main", style: "flex:1;min-height:0;display:flex;flex-direction:column" });
  const refreshBtn = h("button", { class: "cid-btn", title: "Reload the list", "data-cid": "reload",
    onclick: () => reload() }, "↻");
  const root = h("div", { class: "cid-panel", "data-cid": "panel" },
    h("div", { class: "cid-head" }, h("h2", {}, "CivitAI Identify"), refreshBtn),
    notices, scanBar.element, toolbar, main);
  // ComfyUI hands us a div with no height inside its scrolling sidebar container: fill it,
  // so the list (not the whole sidebar) scrolls.
  el.style.height = "100%";
  el.replaceChildren(root);

  // Filtering: debounce typing; selects apply at once.
  const applySoon = debounce(() => applyView(true), 150);
  search.addEventListener("input", () => {
    state.filters.q = search.value;
    applySoon();
  });
  for (const [sel, key] of [[selCategory, "category"], [selBase, "baseModel"], [selStatus, "status"]]) {
    sel.addEventListener("change", () => {
      state.filters[key] = sel.value;
      applyView(true);
    });
  }
  selSort.addEventListener("change", () => {
    state.sort = selSort.value;
    applyView(true);
  });
  selBlur.addEventListener("change", () => {
    state.threshold = Number(selBlur.value);
    try {
      localStorage.setItem(BLUR_KEY, String(state.threshold));
    } catch {
      // storage may be disabled: the choice then lasts for this session
    }
    list.refresh();
    if (state.selected) showDetails();
  });

  function fillSelect(sel, label, entries, current, names = {}) {
    const opts = [h("option", { value: "" }, label)];
    const known = new Set(entries.map(([v]) => v));
    if (current && !known.has(current)) entries = [...entries, [current, 0]];
    for (const [value, n] of entries) opts.push(h("option", { value }, `${names[value] || value} (${formatCount(n)})`));
    sel.replaceChildren(...opts);
    sel.value = current;
  }

  // Sorting and the filter menus depend only on the records (and the sort key): computed
  // once per change of those, so a keystroke costs one linear filter pass.
  let sortedFor = null;
  let menusFor = null;
  function applyView(resetScroll = false) {
    if (menusFor !== state.items) {
      menusFor = state.items;
      const f = facets(state.items);
      fillSelect(selCategory, "All categories", f.category, state.filters.category);
      fillSelect(selBase, "All base models", f.baseModel, state.filters.baseModel);
      fillSelect(selStatus, "Any status", f.status, state.filters.status, STATUS_LABELS);
    } else {
      selCategory.value = state.filters.category;
      selBase.value = state.filters.baseModel;
      selStatus.value = state.filters.status;
    }
    if (!sortedFor || sortedFor.items !== state.items || sortedFor.key !== state.sort) {
      sortedFor = { items: state.items, key: state.sort, sorted: sortItems(state.items, state.sort) };
    }
    state.view = filterItems(sortedFor.sorted, state.filters);
    count.dataset.q = state.filters.q; // the query this count answers (tests wait on it)
    count.textContent = state.view.length === state.items.length
      ? `${formatCount(state.items.length)} models`
      : `${formatCount(state.view.length)} of ${formatCount(state.items.length)} models`;
    renderNotices();
    if (state.selected) return showDetails();
    toolbar.hidden = !state.items.length;
    if (state.error && !state.items.length) {
      return main.replaceChildren(stateBox("error", `Could not load the model list. ${state.error}`,
        [["Retry", () => reload()]]));
    }
    if (state.loading && !state.items.length) return main.replaceChildren(stateBox("loading", "Loading models…"));
    if (!state.items.length) {
      return main.replaceChildren(stateBox("empty",
        "No models in the list yet. Scan your models: their files are hashed and looked up on CivitAI.",
        [["Scan your models", () => scanBar.element.querySelector("[data-cid=scan-start]").click()]]));
    }
    if (!state.view.length) {
      return main.replaceChildren(stateBox("no-match", "No models match the search and filters.",
        [["Clear filters", clearFilters]]));
    }
    if (main.firstChild !== list.element) main.replaceChildren(list.element);
    list.setItems(state.view, { resetScroll });
  }

  function clearFilters() {
    state.filters = { q: "", category: "", baseModel: "", status: "" };
    search.value = "";
    applyView(true);
  }

  function renderNotices() {
    const parts = [];
    if (state.error && state.items.length) {
      parts.push(errorsNotice(`Could not refresh the list: ${state.error}`, [["Retry", () => reload()]]));
    }
    if (state.status && state.status.token_configured === false && !state.tokenDismissed) {
      parts.push(tokenNotice(() => {
        state.tokenDismissed = true;
        renderNotices();
      }));
    }
    const failed = state.items.filter((it) => it.status === "error");
    if (failed.length && !scanBar.running) {
      const mode = failed.some((it) => it.category !== "other") ? "all" : "other";
      parts.push(errorsNotice(
        `${formatCount(failed.length)} model(s) could not be checked (CivitAI unreachable or an error).`,
        [["Show them", () => { state.filters.status = "error"; state.selected = null; applyView(true); }],
         ["Retry", () => client.scan({ folders: "all", identify: mode, retry_unknown: false })
           .then((r) => scanBar.showJob(unwrapJob(r)), (e) => toast(e.message))]]));
    }
    notices.replaceChildren(...parts);
  }

  // The list holds brief records (GET models?view=brief: no descriptions, creator or file,
  // only thumbnail images); the details view shows the FULL record of the selected model.
  let full = { key: null, record: null };
  function select(key) {
    state.selected = key;
    if (full.key !== key) full = { key, record: null };
    showDetails();
    loadFull(key);
  }

  function loadFull(key) {
    const item = state.items.find((it) => it.key === key);
    if (!item) return;
    client.model(item.record.folder, item.record.name).then((rec) => updateRecord(rec), (err) => {
      if (state.selected !== key || full.key !== key || full.record) return;
      full = { key, record: item.record }; // show what the list has rather than nothing
      toast(`Could not load the details: ${err.message}`);
      showDetails();
    });
  }

  const shown = { view: null, signature: "" }; // the details view on screen and its data
  function showDetails() {
    const item = state.items.find((it) => it.key === state.selected);
    if (!item) {
      state.selected = null;
      return applyView();
    }
    toolbar.hidden = true;
    const onBack = () => {
      state.selected = null;
      applyView();
    };
    const record = full.key === item.key ? full.record : null;
    if (!record) {
      shown.view = null;
      return main.replaceChildren(h("div", { class: "cid-details", "data-cid": "details-loading" },
        h("button", { class: "cid-btn", onclick: onBack, "data-cid": "back" }, "← Back"),
        h("div", { class: "cid-muted" }, "Loading details…")));
    }
    // A live refresh during a scan must not re-blur revealed images or reset the scroll:
    // rebuild only when what is shown would change.
    const signature = JSON.stringify([record, state.threshold, state.busyKeys.has(item.key)]);
    if (shown.view && main.firstElementChild === shown.view && shown.signature === signature) return;
    const view = renderDetails(record, {
      threshold: state.threshold,
      busy: state.busyKeys.has(item.key),
      notify: toast,
      onBack,
      onIdentify: identify,
    });
    shown.view = view;
    shown.signature = signature;
    main.replaceChildren(view);
  }

  async function identify(record, force) {
    const key = `${record.folder}/${record.name}`;
    state.busyKeys.add(key);
    showDetails();
    try {
      const answer = await client.identify(record.folder, record.name, force);
      if (answer && answer.job) return; // long hashing: the done event refreshes the record
      state.busyKeys.delete(key);
      updateRecord(answer);
    } catch (err) {
      state.busyKeys.delete(key);
      toast(`Identify failed: ${err.message}`);
      showDetails();
    }
  }

  function updateRecord(record) {
    if (!record || !record.folder) return;
    const [fresh] = indexRecords([record]);
    if (fresh.key === full.key) full = { key: fresh.key, record }; // always a full record here
    const i = state.items.findIndex((it) => it.key === fresh.key);
    state.items = i >= 0 ? state.items.map((it, j) => (j === i ? fresh : it)) : [...state.items, fresh];
    applyView();
  }

  async function reload() {
    state.loading = true;
    if (!state.items.length) applyView();
    const [status, models] = await Promise.allSettled([client.status(), client.models()]);
    state.loading = false;
    if (status.status === "fulfilled") {
      state.status = status.value;
      if (status.value && status.value.scan) scanBar.showJob(status.value.scan);
      if (status.value && status.value.identify_mode) scanBar.setDefaultMode(status.value.identify_mode);
    }
    if (models.status === "fulfilled") {
      state.items = indexRecords((models.value && models.value.models) || []);
      state.error = null;
      if (state.selected) loadFull(state.selected); // the brief list changed: refresh details too
      if (state.busyKeys.size) {
        // an identify job finished with the scan/done event: stop showing it as busy
        state.busyKeys.clear();
      }
    } else {
      state.error = models.reason.message || String(models.reason);
    }
    applyView();
  }

  const liveRefresh = throttle(() => reload(), LIVE_REFRESH_MS);
  let alive = true;
  reload();
  return {
    handleEvent(type, detail) {
      if (!alive) return;
      const isScan = !detail || !detail.kind || detail.kind === "scan";
      if (type === "civitai-identify.progress") {
        if (!isScan) return; // a single identify: its button already says "Identifying…"
        scanBar.showProgress(detail);
        if (detail && detail.phase !== "listing") liveRefresh();
      } else if (type === "civitai-identify.done") {
        if (isScan) scanBar.showJob(detail);
        else {
          state.busyKeys.clear();
          if (detail && detail.state === "error") toast(`Identify failed: ${detail.error || "unknown error"}`);
        }
        reload();
      }
    },
    reload,
    destroy() {
      alive = false;
    },
  };
}

function unwrapJob(answer) {
  return answer && answer.job_id ? answer : answer && answer.job ? answer.job : answer;
}

function readThreshold() {
  try {
    const v = localStorage.getItem(BLUR_KEY);
    if (v !== null && BLUR_CHOICES.some(([n]) => String(n) === v)) return Number(v);
  } catch {
    // storage disabled
  }
  return 4; // default: R and above blurred, PG and PG-13 shown
}
