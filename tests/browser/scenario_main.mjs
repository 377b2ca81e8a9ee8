// The panel over the small seeded store: list, search, filters, details, sanitizing, NSFW
// blur, copy, identify, scan with live progress, and the error/empty states.
import { back, blurredLevels, countText, openPanel, openRecord, rowTitles, search, sel,
  selectOption, selectSort, waitCount, waitMenus } from "./scenario_lib.mjs";

export async function mainScenario(ctx) {
  // Each step reports its own checks; a step that throws is logged and the page reopened,
  // so one failure does not hide the rest.
  const steps = [listStep, brokenThumbStep, rowsFirstStep, searchStep, detailsStep, identifyScenario, scanScenario, cancelScenario, statesScenario];
  for (const step of steps) {
    try {
      await step(ctx);
    } catch (err) {
      ctx.report.errors.push(`${step.name}: ${err.message || err}`);
      await openPanel(ctx.page, ctx.args.url);
    }
  }
}

async function brokenThumbStep({ page, check, args }) {
  // Preview images that fail to load (gone from CivitAI, blocked host) become the letter tile.
  await page.route("**/img/**", (r) => r.fulfill({ status: 404, body: "" }));
  try {
    await openPanel(page, args.url);
    const rowThumb = () => page.$$eval(".cid-item", (rows) => {
      const row = rows.find((r) => r.querySelector(".cid-item-title").textContent === "DreamShaper — 8");
      return `${row.querySelector(".cid-thumb").textContent}|${Boolean(row.querySelector(".cid-thumb img"))}`;
    });
    await page.waitForFunction(() => [...document.querySelectorAll(".cid-item")].some((r) =>
      r.querySelector(".cid-item-title").textContent === "DreamShaper — 8" && !r.querySelector(".cid-thumb img")),
    null, { timeout: 5000 }).catch(() => {});
    const thumb = await rowThumb();
    check("broken_thumbnail_becomes_letter", thumb === "C|false", thumb);
  } finally {
    await page.unroute("**/img/**");
    await openPanel(page, args.url);
  }
}

async function rowsFirstStep({ page, check, args }) {
  // The rows never wait for the menus' facets: with GET facets held, the list opens and a
  // search answers; the menus fill in once the facets come.
  let release = () => {};
  const held = new Promise((r) => (release = r));
  await page.route("**/civitai-identify/facets*", async (r) => {
    await held;
    await r.continue().catch(() => {}); // the page may have moved on
  });
  try {
    await openPanel(page, args.url);
    const rows = await page.waitForSelector(".cid-item", { timeout: 5000 }).then(() => true, () => false);
    const searched = await search(page, "anime", 1);
    const menusEarly = await page.$$eval(`${sel("filter-category")} option`, (o) => o.length);
    release();
    const menus = await waitMenus(page);
    check("rows_before_menus", rows && searched && menusEarly === 0 && menus, { rows, searched, menusEarly, menus });
  } finally {
    release();
    await page.unroute("**/civitai-identify/facets*");
    await openPanel(page, args.url);
  }
}

async function listStep({ page, check, shot, args }) {
  await openPanel(page, args.url);
  const load = await page.evaluate(() => ({
    errors: window.__loadErrors,
    tabs: window.__app.extensionManager.tabs.map((t) => ({ id: t.id, title: t.title, type: t.type, icon: t.icon })),
  }));
  check("extension_files_load_alone", load.errors.length === 0, load.errors);
  check("tab_registered", load.tabs.length === 1 && load.tabs[0].id === "civitai-identify" &&
    load.tabs[0].type === "custom" && /^pi pi-/.test(load.tabs[0].icon), load.tabs);
  await page.waitForSelector(".cid-item");
  const titles = await rowTitles(page);
  const want = ["DreamShaper — 8", "Anime Lineart — v2", "Detail Tweaker XL — v1.0",
    "mystery_lora.safetensors", "easynegative.safetensors", "broken_download.safetensors"];
  check("list_renders", want.every((t) => titles.includes(t)) && (await countText(page)).startsWith("6 "), titles);
  const badges = await page.$$eval(".cid-item .cid-badge", (b) => b.map((x) => x.textContent));
  check("status_badges", ["identified", "unknown", "error", "not checked"].every((s) => badges.includes(s)), badges);
  const thumbs = await page.$$eval(".cid-item", (rows) => rows.map((r) => {
    const img = r.querySelector(".cid-thumb img");
    return [r.querySelector(".cid-item-title").textContent, img ? img.getAttribute("src") : r.querySelector(".cid-thumb").textContent];
  }));
  const thumbOf = Object.fromEntries(thumbs);
  check("thumbnails", thumbOf["DreamShaper — 8"].includes("/img/") && thumbOf["Anime Lineart — v2"].includes("/img/") &&
    thumbOf["Detail Tweaker XL — v1.0"] === "▶" && thumbOf["mystery_lora.safetensors"] === "L", thumbOf);
  // the notices come with GET status, which follows the first rows
  await page.waitForFunction(() => /could not be checked/.test(document.querySelector('[data-cid="notices"]').textContent),
    null, { timeout: 5000 }).catch(() => {});
  check("token_notice", await page.isVisible(sel("token-notice")), await page.textContent(sel("notices")));
  check("error_notice", /could not be checked/.test(await page.textContent(sel("notices"))), "");
  await shot("01-list");

  // The panel fills the sidebar's height and nothing sticks out, also at ComfyUI's narrow
  // default sidebar width (224 px at 1400 px).
  const layout = () => page.evaluate(() => {
    const side = document.getElementById("sidebar");
    const panel = document.querySelector(".cid-panel");
    const right = panel.getBoundingClientRect().right;
    const over = [...panel.querySelectorAll("button, select, input")]
      .filter((e) => e.offsetParent && e.getBoundingClientRect().right > right + 1)
      .map((e) => e.textContent || e.dataset.cid);
    return { fills: Math.abs(panel.getBoundingClientRect().height - side.clientHeight) <= 2,
      listHeight: document.querySelector(".cid-list").clientHeight, over };
  });
  const wide = await layout();
  await page.evaluate(() => (document.getElementById("sidebar").style.width = "224px"));
  await page.waitForTimeout(100);
  const narrow = await layout();
  await shot("01b-narrow");
  await page.evaluate(() => (document.getElementById("sidebar").style.width = ""));
  check("layout_fills_and_fits", wide.fills && narrow.fills && wide.listHeight > 300 &&
    wide.over.length === 0 && narrow.over.length === 0, { wide, narrow });

}

async function searchStep({ page, check, shot }) {
  await page.waitForSelector(".cid-item");
  // Search: file name, model name, tag, trigger words (every word must match); no match.
  const found = {};
  for (const [q, n] of [["anime", 1], ["dreamy light", 1], ["photorealistic", 1], ["mystery", 1], ["tweaker", 1], ["lora", 1]]) {
    found[q] = (await search(page, q, n)) ? await rowTitles(page) : `count ${await countText(page)}`;
  }
  check("search_narrows", found.anime?.[0] === "Anime Lineart — v2" && found["dreamy light"]?.[0] === "DreamShaper — 8" &&
    found.photorealistic?.[0] === "DreamShaper — 8" && found.mystery?.[0] === "mystery_lora.safetensors" &&
    found.tweaker?.[0] === "Detail Tweaker XL — v1.0", found);
  const none = await search(page, "no such model zzz", 0);
  await shot("02-no-match");
  await page.click(`${sel("state-no-match")} button`);
  check("search_no_match_and_clear", none && (await waitCount(page, 6)) && (await page.inputValue(sel("search"))) === "", "");

  // Filters and sort.
  const filtered = {};
  await selectOption(page, "filter-status", "unknown");
  filtered.unknown = (await waitCount(page, 1)) && (await rowTitles(page));
  await selectOption(page, "filter-status", "");
  await selectOption(page, "filter-category", "loras");
  filtered.loras = (await waitCount(page, 3)) && (await rowTitles(page));
  await selectOption(page, "filter-base", "SDXL 1.0");
  filtered.sdxl = (await waitCount(page, 1)) && (await rowTitles(page));
  await shot("03-filtered");
  await selectOption(page, "filter-base", "");
  await selectOption(page, "filter-category", "");
  check("filters_narrow", filtered.unknown?.[0] === "mystery_lora.safetensors" && filtered.loras?.length === 3 &&
    filtered.sdxl?.[0] === "Detail Tweaker XL — v1.0" && (await waitCount(page, 6)), filtered);
  await selectSort(page, "size");
  const bySize = await rowTitles(page);
  await selectSort(page, "name");
  check("sort_by_size", bySize[0] === "DreamShaper — 8", bySize);

}

async function detailsStep({ page, check, shot, args }) {
  await page.waitForSelector(".cid-item");
  // Details of an identified model, with a hostile description.
  await openRecord(page, "DreamShaper — 8");
  await page.waitForTimeout(400); // let an onerror/onload fire if anything slipped through
  const record = await page.evaluate(async () =>
    (await fetch("/api/civitai-identify/models/checkpoints/dreamshaper_8.safetensors")).json());
  const details = await page.textContent(sel("details"));
  const facts = ["creator_100", "SD 1.5", "dreamy light", "photorealistic", record.hashes.SHA256, "Version notes", record.civitai_info.type, "Open on CivitAI"];
  const link = await page.$eval(sel("civitai-link"), (a) => [a.href, a.target, a.rel]);
  check("details_show_info", facts.every((f) => details.includes(f)) &&
    link[0] === record.civitai_info.url && link[1] === "_blank" && link[2] === "noopener noreferrer",
  { missing: facts.filter((f) => !details.includes(f)), link });
  const desc = await page.$$eval(sel("description"), (boxes) => {
    const all = boxes.flatMap((box) => [...box.querySelectorAll("*")]);
    return {
      boxes: boxes.length,
      text: boxes.map((b) => b.textContent).join(" | "),
      bold: boxes.some((b) => b.querySelector("b")),
      banned: all.filter((e) => /^(script|img|svg|math|iframe|style|object|embed|form|button|meta|base|details)$/i.test(e.localName))
        .map((e) => e.localName),
      attrs: all.flatMap((e) => [...e.attributes].filter((a) => !["href", "target", "rel"].includes(a.name)).map((a) => a.name)),
      hrefs: all.filter((e) => e.localName === "a").map((a) => [a.getAttribute("href"), a.target, a.rel]),
    };
  });
  for (const text of ["click me", "case", "data", "vb", "styled"]) {
    await page.locator(sel("description")).getByText(text, { exact: true }).first().click();
  }
  await page.waitForTimeout(200);
  const xss = await page.evaluate(() => ({ flag: window.__xss, bodyShown: getComputedStyle(document.body).display !== "none" }));
  check("description_sanitized", xss.flag === undefined && xss.bodyShown && desc.bold && desc.text.includes("portraits") &&
    desc.boxes === 2 && desc.banned.length === 0 && desc.attrs.length === 0 && page.url() === args.url &&
    desc.hrefs.every(([h, t, r]) => (h === null || /^https?:/.test(h)) && (h === null || (t === "_blank" && r === "noopener noreferrer"))) &&
    desc.hrefs.some(([h]) => h === "https://example.com/guide"), { xss, desc });
  await shot("04-details");

  // NSFW: levels 1, 4, 16, 2 → R (4) and above blurred by default; a click reveals one.
  const before = await blurredLevels(page);
  await page.click('[data-cid="image"][data-nsfw="4"]');
  const afterClick = await blurredLevels(page);
  await shot("05-nsfw-one-revealed");
  // A refresh (as during a scan) keeps what the user revealed.
  await Promise.all([page.waitForResponse((r) => r.url().includes("/api/civitai-identify/models?view=brief&")), page.click(sel("reload"))]);
  await page.waitForTimeout(100);
  const afterReload = await blurredLevels(page);
  await back(page);
  await selectOption(page, "blur", "2");
  await openRecord(page, "DreamShaper — 8");
  const strict = await blurredLevels(page);
  const stored = await page.evaluate(() => localStorage.getItem("civitai-identify.blurLevel"));
  check("nsfw_blur", JSON.stringify(before) === "[4,16]" && JSON.stringify(afterClick) === "[16]" &&
    JSON.stringify(afterReload) === "[16]" &&
    JSON.stringify(strict) === "[4,16,2]" && stored === "2", { before, afterClick, afterReload, strict, stored });

  // Click to copy: a trigger word and a hash.
  await page.click(`${sel("trigger")}:has-text("dreamy light")`);
  const copiedWord = await page.evaluate(() => navigator.clipboard.readText());
  await page.locator(sel("hash"), { hasText: record.hashes.SHA256 }).click();
  const copiedHash = await page.evaluate(() => navigator.clipboard.readText());
  check("click_to_copy", copiedWord === "dreamy light" && copiedHash === record.hashes.SHA256, { copiedWord, copiedHash });
  await back(page);
  await selectOption(page, "blur", "4");

  await openRecord(page, "Detail Tweaker XL — v1.0");
  const media = await page.$$eval('[data-cid="image"]', (cells) => cells.map((c) => c.firstElementChild.localName));
  check("video_preview", JSON.stringify(media) === '["video","img"]', media);
  await back(page);

}

async function identifyScenario({ page, check, shot, args }) {
  await openRecord(page, "mystery_lora.safetensors");
  const label = await page.textContent(sel("identify"));
  await page.click(sel("identify"));
  let ok = false;
  try {
    await page.waitForFunction((name) => document.querySelector('[data-cid="details"] h3')?.textContent.includes(name),
      args["identify-name"], { timeout: 30000 });
    ok = true;
  } catch {
    // reported below
  }
  await page.waitForTimeout(200);
  await shot("06-identified");
  const badge = await page.textContent(`${sel("details")} .cid-badge`);
  check("identify_retry", label === "Retry" && ok && badge === "identified",
    { label, badge, title: await page.textContent(`${sel("details")} h3`) });
  await back(page);
}

async function scanScenario({ page, check, shot, args }) {
  await page.evaluate(() => {
    window.__api.events.length = 0;
    // Every text the progress line shows, however fast the scan runs.
    window.__phases = [];
    const line = document.querySelector('[data-cid="scan-phase"]');
    new MutationObserver(() => window.__phases.push(line.textContent))
      .observe(line, { childList: true, characterData: true, subtree: true });
  });
  await selectOption(page, "scan-mode", "all");
  // What the panel asks while the scan runs: pages of the rows in view and the facets only.
  const asked = [];
  const onRequest = (r) => { if (r.url().includes("/civitai-identify/")) asked.push(r.url()); };
  page.on("request", onRequest);
  await page.click(sel("scan-start"));
  const seen = new Set();
  let midShot = false;
  const t0 = Date.now();
  while (Date.now() - t0 < 60000) {
    const s = await page.evaluate(() => ({
      phase: document.querySelector('[data-cid="scan-phase"]').textContent,
      cancel: !document.querySelector('[data-cid="scan-cancel"]').hidden,
      done: window.__api.events.some((e) => e.type === "civitai-identify.done" && e.data.kind === "scan"),
    }));
    if (s.phase) seen.add(s.phase);
    if (s.cancel && !midShot) {
      midShot = true;
      await shot("07-scan-running");
    }
    if (s.done) break;
    await page.waitForTimeout(30);
  }
  const events = await page.evaluate(() => window.__api.events.map((e) => [e.type, e.data.phase || e.data.state]));
  for (const text of await page.evaluate(() => window.__phases)) seen.add(text);
  let listed = false;
  try {
    await page.waitForFunction((name) => [...document.querySelectorAll(".cid-item-title")].some((t) => t.textContent.includes(name)),
      args["scan-name"], { timeout: 10000 });
    listed = true;
  } catch {
    // reported below
  }
  page.off("request", onRequest);
  await shot("08-after-scan");
  const lists = asked.filter((u) => /\/models\?/.test(u));
  check("scan_refreshes_visible_page", lists.length > 0 && lists.every((u) => /[?&]limit=100(&|$)/.test(u) && /[?&]offset=0(&|$)/.test(u)) &&
    asked.some((u) => /\/facets/.test(u)), asked);
  const finalPhase = await page.textContent(sel("scan-phase"));
  check("scan_progress_and_refresh",
    events.some(([t]) => t === "civitai-identify.progress") && events.some(([t, s]) => t === "civitai-identify.done" && s === "done") &&
    [...seen].some((p) => /Hashing|Listing|Looking up/.test(p)) && /Scan finished/.test(finalPhase) && listed,
  { events, seen: [...seen], finalPhase, listed });
}

async function cancelScenario({ page, check, shot }) {
  await page.evaluate(async () => {
    window.__api.events.length = 0;
    await fetch("/harness/slow-new-file", { method: "POST" });
  });
  await page.click(sel("scan-start"));
  let lookingUp = false;
  try {
    await page.waitForFunction(() => /Looking up/.test(document.querySelector('[data-cid="scan-phase"]').textContent) &&
      !document.querySelector('[data-cid="scan-cancel"]').hidden, null, { timeout: 15000 });
    lookingUp = true;
  } catch {
    // reported below
  }
  await shot("07b-scan-looking-up");
  const t0 = Date.now();
  if (lookingUp) await page.click(sel("scan-cancel"));
  let ended = false;
  try {
    await page.waitForFunction(() => /Scan cancelled/.test(document.querySelector('[data-cid="scan-phase"]').textContent),
      null, { timeout: 6000 });
    ended = true;
  } catch {
    // reported below
  }
  const ms = Date.now() - t0;
  const after = await page.evaluate(() => ({
    cancelHidden: document.querySelector('[data-cid="scan-cancel"]').hidden,
    startEnabled: !document.querySelector('[data-cid="scan-start"]').disabled,
    phase: document.querySelector('[data-cid="scan-phase"]').textContent,
    done: window.__api.events.filter((e) => e.type === "civitai-identify.done").map((e) => e.data.state),
  }));
  await shot("07c-scan-cancelled");
  check("scan_cancel", lookingUp && ended && after.cancelHidden && after.startEnabled && after.done.includes("cancelled"),
    { lookingUp, ended, ms, ...after });
}

async function statesScenario({ page, check, shot, args }) {
  // The routes failing: a clear error with Retry, which recovers once they answer again.
  const models = /\/api\/civitai-identify\/models(\?|$)/; // the list, not one record
  await page.route(models, (r) => r.fulfill({ status: 500, contentType: "application/json",
    body: JSON.stringify({ error: "Internal error (OperationalError); see the ComfyUI log." }) }));
  await openPanel(page, args.url);
  await page.waitForSelector(sel("state-error"));
  const errorText = await page.textContent(sel("state-error"));
  await shot("09-api-error");
  await page.unroute(models);
  await page.click(`${sel("state-error")} button`);
  let recovered = false;
  try {
    await page.waitForSelector(".cid-item", { timeout: 10000 });
    recovered = true;
  } catch {
    // reported below
  }
  check("api_error_and_retry", /OperationalError/.test(errorText) && /Retry/.test(errorText) && recovered, { errorText, recovered });

  // No records yet: the empty state says to scan.
  await page.route(models, (r) => r.fulfill({ status: 200, contentType: "application/json",
    body: JSON.stringify({ models: [], total: 0 }) }));
  await openPanel(page, args.url);
  await page.waitForSelector(sel("state-empty"));
  const emptyText = await page.textContent(sel("state-empty"));
  await shot("10-empty");
  await page.unroute(models);
  check("empty_state", /Scan your models/.test(emptyText), emptyText);
}
