// The sidebar panel: state, layout and wiring between the routes, the list, the details view
// and the scan bar. mountPanel() is called from the tab's render(el); nothing runs on import.

import { h, debounce, throttle, formatCount } from "./cid_util.js";
import { createClient } from "./cid_api.js";
import { indexRecords } from "./cid_records.js";
import { createPages } from "./cid_pages.js";
import { createModelList } from "./cid_list.js";
import { renderDetails } from "./cid_details.js";
import { createScanBar } from "./cid_scan.js";
import { injectStyle } from "./cid_style.js";
import { BLUR_CHOICES, createToolbar } from "./cid_toolbar.js";
import { tokenNotice, errorsNotice, stateBox } from "./cid_notices.js";

const BLUR_KEY = "civitai-identify.blurLevel"; // a display preference only, never a secret
// the menu's choice → GET models' sort (the server sorts; "-" is descending)
const SORT_PARAM = { name: "name", date: "-date", size: "-size", downloads: "-downloads" };
const LIVE_REFRESH_MS = 4000;

/** Build the panel into `el`; returns { handleEvent(type, detail), reload(), destroy() }. */
export function mountPanel(el, { api }) {
  injectStyle(el.ownerDocument);
  const client = createClient(api);
  // The list is one query's pages (cid_pages.js); the menus are the server's facets.
  const state = {
    loading: true, error: null, status: null, selected: null, selectedItem: null,
    busyKeys: new Set(), filters: { q: "", category: "", baseModel: "", status: "", update: false },
    sort: "name", threshold: readThreshold(), tokenDismissed: false,
    facets: null, answeredQ: null, errorCategories: [],
  };
  const pages = createPages(client, { onUpdate: () => applyView() });

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
  const list = createModelList({ onSelect: (item) => select(item), getThreshold: () => state.threshold,
    onNeed: (first, last) => pages.need(first, last) });
  // Every scan job news bumps scanNews: a GET status asked before it must not show its
  // (older) scan over the newer one.
  let scanNews = 0;
  const showScan = (job) => {
    scanNews++;
    scanBar.showJob(job);
  };
  const scanBar = createScanBar({
    onStart: async (options) => {
      const news = scanNews;
      const job = unwrapJob(await client.scan(options));
      // the websocket's progress can overtake this answer: a running job's first snapshot
      // is then older than what the bar shows
      if (news !== scanNews && job && job.state === "running") return;
      showScan(job);
    },
    onCancel: async () => showScan(unwrapJob(await client.cancelScan())),
  });

  const bar = createToolbar(state.threshold);
  const { search, selCategory, selBase, selStatus, onlyUpdates, selSort, selBlur, count } = bar;
  const toolbar = bar.element;

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
  const applySoon = debounce(() => runQuery(), 150);
  search.addEventListener("input", () => {
    state.filters.q = search.value;
    applySoon();
  });
  for (const [sel, key] of [[selCategory, "category"], [selBase, "baseModel"], [selStatus, "status"]]) {
    sel.addEventListener("change", () => {
      state.filters[key] = sel.value;
      runQuery();
    });
  }
  onlyUpdates.addEventListener("change", () => {
    state.filters.update = onlyUpdates.checked;
    runQuery();
  });
  selSort.addEventListener("change", () => {
    state.sort = selSort.value;
    runQuery();
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

  const filterParams = () => ({ q: state.filters.q.trim(), category: state.filters.category,
    base_model: state.filters.baseModel, status: state.filters.status, update: state.filters.update ? "1" : "" });
  const filtering = () => Object.values(filterParams()).some(Boolean);
  const allCount = () => Object.values((state.status && state.status.counts) || {}).reduce((a, b) => a + b, 0);

  // A new query (typing, a menu): its first page, the list back at the top; then the facets
  // for the menus, and `then()` (reload's status). The rows wait for nothing else, nor
  // share the server with those requests.
  let queryGen = 0;
  async function runQuery(resetScroll = true, then = async () => {}) {
    const g = ++queryGen;
    const q = state.filters.q;
    const params = filterParams();
    const [page] = await Promise.allSettled([
      pages.setQuery({ ...params, sort: SORT_PARAM[state.sort] || "name" })]);
    if (g !== queryGen) return then();
    settle(page);
    state.answeredQ = q;
    count.dataset.sort = state.sort; // the sort the list is in (tests wait on it)
    count.dataset.query = JSON.stringify(params); // the filters it answers (tests wait on it)
    applyView(resetScroll);
    await Promise.all([loadMenus(g, params), then()]);
  }

  // During a scan (and on the reload button): only the rows in view, then the facets.
  async function refreshVisible(then = async () => {}) {
    if (!pages.loaded) return runQuery(true, then);
    const g = queryGen;
    const [first, last] = list.visibleRange();
    const [page] = await Promise.allSettled([pages.refresh(first, last)]);
    if (g !== queryGen) return then();
    settle(page);
    applyView();
    await Promise.all([loadMenus(g, filterParams()), then()]);
  }

  function settle(page) {
    state.loading = false;
    if (page.status === "fulfilled") state.error = null;
    else state.error = page.reason.message || String(page.reason);
  }

  // The menus' counts for `params` (a failure keeps the last ones); only the menus change.
  async function loadMenus(g, params) {
    try {
      const facets = await client.facets(params);
      if (g !== queryGen) return;
      state.facets = facets;
      renderMenus();
      toolbar.dataset.menus = JSON.stringify(params); // the filters they answer (tests wait on it)
    } catch {
      // the list is what matters; the next query asks again
    }
  }

  const renderMenus = () => bar.showMenus(state.facets, state.filters);

  function applyView(resetScroll = false) {
    renderMenus();
    const total = pages.total || 0;
    const all = Math.max(allCount(), total);
    count.dataset.q = state.answeredQ === null ? "" : state.answeredQ; // the query this count answers (tests wait on it)
    count.textContent = !filtering() || total === all
      ? `${formatCount(total)} models`
      : `${formatCount(total)} of ${formatCount(all)} models`;
    renderNotices();
    if (state.selected) return showDetails();
    const empty = !total && !filtering();
    toolbar.hidden = empty && !state.error;
    if (state.error && !total) {
      return main.replaceChildren(stateBox("error", `Could not load the model list. ${state.error}`,
        [["Retry", () => reload()]]));
    }
    if (state.loading && !pages.loaded) return main.replaceChildren(stateBox("loading", "Loading models…"));
    if (empty) {
      return main.replaceChildren(stateBox("empty",
        "No models in the list yet. Scan your models: their files are hashed and looked up on CivitAI.",
        [["Scan your models", () => scanBar.element.querySelector("[data-cid=scan-start]").click()]]));
    }
    if (!total) {
      return main.replaceChildren(stateBox("no-match", "No models match the search and filters.",
        [["Clear filters", clearFilters]]));
    }
    if (main.firstChild !== list.element) main.replaceChildren(list.element);
    list.setItems(pages.rows, { resetScroll });
  }

  function clearFilters() {
    state.filters = { q: "", category: "", baseModel: "", status: "", update: false };
    search.value = "";
    onlyUpdates.checked = false;
    runQuery();
  }

  function renderNotices() {
    const parts = [];
    if (state.error && pages.total) {
      parts.push(errorsNotice(`Could not refresh the list: ${state.error}`, [["Retry", () => reload()]]));
    }
    if (state.status && state.status.token_configured === false && !state.tokenDismissed) {
      parts.push(tokenNotice(() => {
        state.tokenDismissed = true;
        renderNotices();
      }));
    }
    const failed = (state.status && state.status.counts && state.status.counts.error) || 0;
    if (failed && !scanBar.running) {
      const mode = state.errorCategories.some((c) => c !== "other") ? "all" : "other";
      parts.push(errorsNotice(
        `${formatCount(failed)} model(s) could not be checked (CivitAI unreachable or an error).`,
        [["Show them", () => { state.filters.status = "error"; state.selected = null; runQuery(); }],
         ["Retry", () => client.scan({ folders: "all", identify: mode, retry_unknown: false })
           .then((r) => showScan(unwrapJob(r)), (e) => toast(e.message))]]));
    }
    notices.replaceChildren(...parts);
  }

  // The list holds brief records (GET models?view=brief: no descriptions, creator or file,
  // only thumbnail images); the details view shows the FULL record of the selected model.
  let full = { key: null, record: null };
  function select(item) {
    const key = item.key;
    state.selected = key;
    state.selectedItem = item;
    if (full.key !== key) full = { key, record: null };
    showDetails();
    loadFull(key);
  }

  function loadFull(key) {
    const item = state.selectedItem;
    if (!item || item.key !== key) return;
    client.model(item.record.folder, item.record.name).then((rec) => updateRecord(rec), (err) => {
      if (state.selected !== key || full.key !== key || full.record) return;
      full = { key, record: item.record }; // show what the list has rather than nothing
      toast(`Could not load the details: ${err.message}`);
      showDetails();
    });
  }

  const shown = { view: null, signature: "" }; // the details view on screen and its data
  function showDetails() {
    const item = state.selectedItem;
    if (!item) {
      state.selected = null;
      return applyView();
    }
    toolbar.hidden = true;
    const onBack = () => {
      state.selected = null;
      state.selectedItem = null;
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
      client,
      onRecord: updateRecord,
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
    if (state.selectedItem && state.selectedItem.key === fresh.key) state.selectedItem = fresh;
    pages.replace(fresh);
    applyView();
  }

  // The list (a new query the first time, else the rows in view), then the status (counts,
  // token, scan) and the error categories.
  async function reload() {
    state.loading = true;
    if (!pages.loaded) applyView();
    const news = scanNews;
    const then = () => loadStatus(news);
    await (pages.loaded && !state.error ? refreshVisible(then) : runQuery(false, then));
    if (state.selected) loadFull(state.selected); // the list changed: refresh the details too
    if (state.busyKeys.size) state.busyKeys.clear(); // an identify job ended with the done event
    applyView();
  }

  async function loadStatus(news) {
    const [status] = await Promise.allSettled([client.status()]);
    if (status.status === "fulfilled") {
      state.status = status.value;
      if (status.value && status.value.scan && news === scanNews) scanBar.showJob(status.value.scan);
      if (status.value && status.value.identify_mode) scanBar.setDefaultMode(status.value.identify_mode);
    }
    // the categories of the failed files (the Retry's mode), asked only when some failed
    const failed = state.status && state.status.counts && state.status.counts.error;
    const [errors] = await Promise.allSettled([failed ? client.facets({ status: "error" }) : { category: [] }]);
    if (errors.status === "fulfilled") state.errorCategories = (errors.value.category || []).map(([c]) => c);
  }

  const liveRefresh = throttle(() => refreshVisible(), LIVE_REFRESH_MS);
  let alive = true;
  reload();
  return {
    handleEvent(type, detail) {
      if (!alive) return;
      const isScan = !detail || !detail.kind || detail.kind === "scan";
      if (type === "civitai-identify.progress") {
        if (!isScan) return; // a single identify: its button already says "Identifying…"
        scanNews++;
        scanBar.showProgress(detail);
        if (detail && detail.phase !== "listing") liveRefresh();
      } else if (type === "civitai-identify.done") {
        if (isScan) showScan(detail);
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
