// The panel's CivitAI-knowledge features over the small seeded store: the update badge and
// the "update available" filter, the update notice and "save preview" in the details, and
// linking an unknown file to a CivitAI version by hand. Also takes docs/panel-update-badge.png.
import { back, openPanel, openRecord, rowTitles, sel, waitCount } from "./scenario_lib.mjs";

const UPDATED = "Detail Tweaker XL — v1.0";

export async function featuresScenario(ctx) {
  for (const step of [updateStep, previewStep, linkStep, scanPreviewsStep]) {
    try {
      await step(ctx);
    } catch (err) {
      ctx.report.errors.push(`${step.name}: ${err.message || err}`);
      await openPanel(ctx.page, ctx.args.url);
    }
  }
}

const toastText = (page) =>
  page.waitForSelector(sel("toast"), { timeout: 8000 }).then((t) => t.textContent());

async function updateStep({ page, check, args, report }) {
  await openPanel(page, args.url);
  await page.waitForSelector(".cid-item");
  const badges = await page.$$eval(".cid-item", (rows) => rows
    .filter((r) => r.querySelector('[data-cid="update-badge"]'))
    .map((r) => [r.querySelector(".cid-item-title").textContent, r.querySelector('[data-cid="update-badge"]').title]));
  check("update_badge", badges.length === 1 && badges[0][0] === UPDATED && /v2\.0/.test(badges[0][1]), badges);
  if (args.shot) {
    await page.setViewportSize({ width: 460, height: 560 });
    await page.screenshot({ path: args.shot });
    report.screenshots.push(args.shot);
    await page.setViewportSize({ width: 1000, height: 900 });
  }
  await page.check(sel("filter-update"));
  const filtered = await waitCount(page, 1);
  const titles = await rowTitles(page);
  check("update_filter", filtered && titles.length === 1 && titles[0] === UPDATED, titles);
  await page.uncheck(sel("filter-update"));
  check("update_filter_off", await waitCount(page, 6), await rowTitles(page));
}

async function previewStep({ page, check, args }) {
  await openPanel(page, args.url);
  await openRecord(page, UPDATED);
  const notice = await page.textContent(sel("update"));
  check("update_notice", /Update available: v2\.0 for SDXL 1\.0/.test(notice), notice);
  await page.click(sel("save-preview"));
  const said = await toastText(page);
  check("save_preview", said === "Preview saved next to the model.", said);
  await back(page);
}

async function linkStep({ page, check, args }) {
  await openPanel(page, args.url);
  await openRecord(page, "mystery_lora.safetensors");
  await page.fill(sel("link-url"), "https://example.com/not-civitai");
  await page.click(sel("link"));
  const refused = await toastText(page);
  check("link_bad_url", /not a CivitAI URL/.test(refused), refused);
  await page.fill(sel("link-url"), args["link-url"]);
  await page.click(sel("link"));
  try {
    await page.waitForFunction(() => {
      const h3 = document.querySelector('[data-cid="details"] h3');
      return h3 && /Linked Mystery/.test(h3.textContent);
    }, null, { timeout: 8000 });
  } catch {
    // reported below
  }
  const title = await page.textContent('[data-cid="details"] h3');
  const facts = await page.textContent('[data-cid="details"]');
  check("link_by_hand", /Linked Mystery/.test(title) && /manual/.test(facts), title);
  const linkField = await page.$(sel("link-field"));
  check("link_field_only_when_unknown", linkField === null, "the field is gone once identified");
}

async function scanPreviewsStep({ page, check, args }) {
  await openPanel(page, args.url);
  await page.check(sel("scan-previews"));
  const [request] = await Promise.all([
    page.waitForRequest((r) => r.method() === "POST" && /\/civitai-identify\/scan$/.test(r.url())),
    page.click(sel("scan-start")),
  ]);
  const body = JSON.parse(request.postData() || "{}");
  await page.waitForFunction(() => /Scan finished/.test(document.querySelector('[data-cid="scan-phase"]').textContent),
    null, { timeout: 20000 }).catch(() => {});
  const phase = await page.textContent(sel("scan-phase"));
  check("scan_saves_previews", body.write_previews === true && /preview\(s\) saved/.test(phase), { body, phase });
}
