#!/usr/bin/env node
// Drives the sidebar panel in headless Chromium (playwright-core + Debian's chromium) against
// tests/browser/panel_server.py, and prints one JSON report: {checks: {name: {ok, detail}},
// timings: {...}, screenshots: [...], errors: [...]}. tests/test_panel_browser.py asserts it.
//
//   node panel_driver.mjs --url http://127.0.0.1:PORT/ --scenario main|bulk|detected|features --out DIR
//        [--identify-name "Model name CivitAI knows for mystery_lora"]
//        [--scan-name "Model name CivitAI knows for fresh_download"]
// Env: CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { mainScenario } from "./scenario_main.mjs";
import { bulkScenario } from "./scenario_bulk.mjs";
import { detectedScenario } from "./scenario_detected.mjs";
import { featuresScenario } from "./scenario_features.mjs";

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];

const report = { checks: {}, timings: {}, screenshots: [], errors: [] };
const check = (name, ok, detail = "") => {
  report.checks[name] = { ok: Boolean(ok), detail: typeof detail === "string" ? detail : JSON.stringify(detail) };
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(args.url).origin });
  // Loopback only: anything else (e.g. a CivitAI image URL) is refused, never fetched.
  await context.route("**/*", (route) => {
    const u = new URL(route.request().url());
    return ["127.0.0.1", "localhost"].includes(u.hostname) || u.protocol === "data:" ? route.continue() : route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10000); // a step that cannot proceed fails in seconds, not 30 s
  page.on("pageerror", (e) => report.errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    // failed requests (favicon.ico, the 500s the error-state check forces) are not page errors
    if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) report.errors.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    report.errors.push(`dialog opened: ${d.message()}`);
    d.dismiss();
  });
  const shot = async (name) => {
    const path = `${args.out}/${name}.png`;
    await page.screenshot({ path });
    report.screenshots.push(path);
  };
  const ctx = { page, check, shot, report, args };
  if (args.scenario === "bulk") await bulkScenario(ctx);
  else if (args.scenario === "detected") await detectedScenario(ctx);
  else if (args.scenario === "features") await featuresScenario(ctx);
  else await mainScenario(ctx);
} catch (err) {
  report.errors.push(`driver: ${err.stack || err}`);
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(report, null, 1) + "\n");
