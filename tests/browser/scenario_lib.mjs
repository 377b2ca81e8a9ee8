// Helpers shared by the panel scenarios (they run in Node; page.* calls reach the browser).

export const sel = (name) => `[data-cid="${name}"]`;

export async function openPanel(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.__ready === true, null, { timeout: 20000 });
}

export const rowTitles = (page) =>
  page.$$eval(".cid-item", (rows) =>
    rows
      .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)
      .map((r) => r.querySelector(".cid-item-title").textContent));

export const countText = (page) => page.textContent(sel("count"));

/** Type into the search box and wait until the count line settles on `expect` rows. */
export async function search(page, q, expect) {
  await page.fill(sel("search"), q);
  try {
    await page.waitForFunction((v) => document.querySelector('[data-cid="count"]').dataset.q === v, q, { timeout: 5000 });
  } catch {
    return false;
  }
  return waitCount(page, expect);
}

export async function waitCount(page, expect, timeout = 5000) {
  try {
    await page.waitForFunction(
      (n) => {
        const list = document.querySelector(".cid-list");
        const count = document.querySelector('[data-cid="count"]');
        if (n === 0) return !!document.querySelector('[data-cid="state-no-match"]');
        return list && list.isConnected && count && count.textContent.replace(/,/g, "").startsWith(`${n} `);
      },
      expect,
      { timeout },
    );
    return true;
  } catch {
    return false;
  }
}

export async function selectOption(page, name, value) {
  await page.selectOption(sel(name), value);
}

/** Choose a sort and wait until the list is in it (the server sorts). */
export async function selectSort(page, value) {
  await page.selectOption(sel("sort"), value);
  await page.waitForFunction((v) => document.querySelector('[data-cid="count"]').dataset.sort === v, value, { timeout: 5000 });
}

export async function openRecord(page, title) {
  await page.locator(".cid-item", { hasText: title }).first().click();
  await page.waitForSelector(sel("details"));
}

export async function back(page) {
  await page.click(sel("back"));
  await page.waitForSelector(".cid-list");
}

export const blurredLevels = (page) =>
  page.$$eval('[data-cid="image"]', (cells) =>
    cells.filter((c) => c.firstElementChild.classList.contains("cid-blur")).map((c) => Number(c.dataset.nsfw)));

export const now = () => performance.now();

/** Before page.goto: record in the page when the first list row is painted
 *  (window.__firstRowsAt; performance.now() of the frame after it entered the DOM). */
export async function markFirstRows(page) {
  await page.addInitScript(() => {
    window.__firstRowsAt = null;
    const seen = new MutationObserver(() => {
      if (!document.querySelector(".cid-item")) return;
      seen.disconnect();
      requestAnimationFrame(() => setTimeout(() => (window.__firstRowsAt = performance.now()), 0));
    });
    seen.observe(document, { childList: true, subtree: true });
  });
}

/** Measured in the page: from the control's `event` (input: typed, change: a menu) to the
 *  frame where the list answers `expect` rows for the search `q` → ms, or null if it never does. */
export async function timedInPage(page, control, event, act, q, expect) {
  await page.evaluate(([name, type]) => {
    window.__actedAt = null;
    document.querySelector(`[data-cid="${name}"]`).addEventListener(type, () => (window.__actedAt = performance.now()), { once: true });
  }, [control, event]);
  await act();
  try {
    const done = await page.waitForFunction(([v, n]) => {
      const count = document.querySelector('[data-cid="count"]');
      const list = document.querySelector(".cid-list");
      return window.__actedAt !== null && count.dataset.q === v && list && list.isConnected &&
        count.textContent.replace(/,/g, "").startsWith(`${n} `) && performance.now();
    }, [q, expect], { timeout: 5000, polling: "raf" });
    return Math.round((await done.jsonValue()) - (await page.evaluate(() => window.__actedAt)));
  } catch {
    return null;
  }
}

/** Wait until the filter menus answer the query the list shows (the facets follow the rows). */
export async function waitMenus(page, timeout = 5000) {
  try {
    await page.waitForFunction(() => {
      const menus = document.querySelector('[data-cid="toolbar"]').dataset.menus;
      return menus !== undefined && menus === document.querySelector('[data-cid="count"]').dataset.query;
    }, null, { timeout });
    return true;
  } catch {
    return false;
  }
}
