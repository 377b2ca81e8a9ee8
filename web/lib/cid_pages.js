// The records of one query (filters + sort), fetched from GET models a page at a time:
// the panel never downloads the whole library. `rows` is a sparse array as long as the
// query's total: a page not loaded yet is a hole (the list shows placeholders there and
// asks for it). Answers for an older query are dropped. No side effects on import.

import { indexRecords } from "./cid_records.js";

// A query's first answer is one tall screen of rows (the first paint waits for it, and the
// server's time grows with the rows); the pages scrolled to are a few screens each.
export const FIRST_PAGE = 50;
export const PAGE_SIZE = 100;

/** createPages(client, { onUpdate }) → { setQuery(params), need(first, last),
 *  refresh(first, last), replace(item), rows, total, loaded } */
export function createPages(client, { onUpdate = () => {}, pageSize = PAGE_SIZE, firstSize = FIRST_PAGE } = {}) {
  let params = {};
  let gen = 0;
  let rows = [];
  let total = null; // null: nothing loaded yet
  let inflight = new Map(); // page number → promise (this generation)
  let failed = new Set(); // pages that failed in this generation: not asked again by need()

  const pagesOf = (first, last) => {
    const out = [];
    for (let p = Math.floor(first / pageSize); p * pageSize < Math.max(last, first + 1); p++) out.push(p);
    return out;
  };

  // a row of page p in [first, last) not loaded yet (the first answer fills only part of page 0)
  const hasHole = (p, first, last) => {
    for (let i = Math.max(first, p * pageSize); i < Math.min(last, (p + 1) * pageSize, rows.length); i++) {
      if (rows[i] === undefined) return true;
    }
    return false;
  };

  async function fetchPage(p, limit = pageSize) {
    const answer = await client.models({ ...params, limit, offset: p * pageSize });
    return { p, total: Number(answer.total) || 0, items: indexRecords(answer.models || []) };
  }

  function place(target, { p, items }) {
    for (let i = 0; i < items.length; i++) target[p * pageSize + i] = items[i];
  }

  return {
    get rows() {
      return rows;
    },
    get total() {
      return total;
    },
    get loaded() {
      return total !== null;
    },
    /** A new query: resolves once its first page is in (rows replaced then, not before). */
    async setQuery(next) {
      params = { ...next };
      const g = ++gen;
      inflight = new Map();
      failed = new Set();
      const page = await fetchPage(0, firstSize);
      if (g !== gen) return false;
      total = page.total;
      rows = new Array(total);
      place(rows, page);
      return true;
    },
    /** Load the pages covering [first, last) that are holes (the list scrolled there). */
    need(first, last) {
      const g = gen;
      for (const p of pagesOf(first, Math.min(last, rows.length))) {
        if (inflight.has(p) || failed.has(p) || !hasHole(p, first, last)) continue;
        const job = fetchPage(p).then((page) => {
          if (g !== gen) return;
          inflight.delete(p);
          if (page.total !== total) { // the library changed under us: keep what is loaded
            total = page.total;
            rows.length = total;
          }
          place(rows, page);
          onUpdate();
        }, () => {
          if (g !== gen) return;
          inflight.delete(p);
          failed.add(p);
        });
        inflight.set(p, job);
      }
    },
    /** Fetch again only the pages covering [first, last) (during a scan); the other pages
     *  are dropped and loaded again when scrolled to. */
    async refresh(first, last) {
      const g = gen;
      const pages = await Promise.all(pagesOf(first, last).map((p) => fetchPage(p)));
      if (g !== gen) return false;
      total = pages[pages.length - 1].total;
      rows = new Array(total);
      for (const page of pages) place(rows, page);
      rows.length = total;
      inflight = new Map();
      failed = new Set();
      return true;
    },
    /** An updated record (identify): swap it in where it is loaded. */
    replace(item) {
      const i = rows.findIndex((it) => it && it.key === item.key);
      if (i >= 0) rows[i] = item;
      return i >= 0;
    },
  };
}
