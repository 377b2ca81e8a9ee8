// The panel over files CivitAI doesn't know: kind and base model from the file's header
// ("from the file"), the base model filter using both sources, the details' "From the
// file" section (training metadata, trigger phrase), "belongs in …/" and wrong-match warnings.
import { back, openPanel, openRecord, selectOption, sel, waitCount, waitMenus } from "./scenario_lib.mjs";

const rowMeta = (page, title) =>
  page.$$eval(".cid-item", (rows, t) => {
    const row = rows.find((r) => r.querySelector(".cid-item-title").textContent === t);
    return row ? row.querySelector(".cid-item-body .cid-muted").textContent : null;
  }, title);

export async function detectedScenario({ page, check, shot, args }) {
  await openPanel(page, args.url);
  await page.waitForSelector(".cid-item");
  const style = await rowMeta(page, "style.safetensors");
  check("kind_from_the_file", style && style.includes("LoRA · SD 1.5 · from the file"), style);
  const mystery = await rowMeta(page, "mystery.safetensors");
  check("belongs_in_folder", mystery && mystery.includes("belongs in checkpoints/") &&
    mystery.includes("Checkpoint · SD 1.5 · from the file"), mystery);
  const wrong = await rowMeta(page, "Wrong Match — v1.0");
  check("civitai_kind_when_identified", wrong && wrong.includes("LORA · SD 1.5") && !wrong.includes("from the file"), wrong);
  await shot("detected-list");

  await waitMenus(page); // the menus follow the rows
  const options = await page.$$eval(`${sel("filter-base")} option`, (o) => o.map((x) => x.value));
  await selectOption(page, "filter-base", "SD 1.5");
  const narrowed = await waitCount(page, 3);
  await selectOption(page, "filter-base", "Flux.1 D");
  const flux = await waitCount(page, 1);
  await selectOption(page, "filter-base", "");
  const all = await waitCount(page, 4);
  check("base_filter_uses_both", options.includes("SD 1.5") && narrowed && flux && all, { options, narrowed, flux, all });

  await openRecord(page, "style.safetensors");
  const fromFile = await page.textContent(sel("from-file"));
  const phrase = await page.$$eval(sel("trigger-phrase"), (c) => c.map((x) => x.textContent));
  const tags = await page.$$eval(sel("training-tag"), (c) => c.map((x) => x.textContent));
  check("details_from_the_file", fromFile.includes("LoRA") && fromFile.includes("SD 1.5") &&
    fromFile.includes("my_character") && phrase[0] === "mychar" && tags.length === 20 &&
    tags[0] === "1girl (500)", { fromFile, phrase, tags: tags.slice(0, 3) });
  await shot("detected-details");
  await back(page);

  await openRecord(page, "Wrong Match — v1.0");
  const warnings = await page.$$eval(sel("warning"), (w) => w.map((x) => x.textContent));
  const belongs = await page.$$eval(sel("belongs"), (b) => b.map((x) => x.textContent));
  check("wrong_match_warned", warnings.length === 1 &&
    warnings[0].includes("CivitAI says SD 1.5 but the file's tensors are SDXL 1.0") &&
    belongs[0] === "This file belongs in loras/", { warnings, belongs });
  await shot("detected-warning");
}
