// CivitAI Identify: registers the "CivitAI" sidebar tab. The only module that imports
// ComfyUI's app/api; the helpers under lib/ get `api` passed in and have no side effects
// (ComfyUI imports every .js file under web/ as an extension, helpers included).

import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { mountPanel } from "./lib/cid_panel.js";

const EVENTS = ["civitai-identify.progress", "civitai-identify.done"];
let panel = null; // the panel currently mounted (render(el) runs again when the tab reopens)

app.registerExtension({
  name: "civitai-identify.sidebar",
  setup() {
    // One listener per event for the page's lifetime, forwarded to the live panel.
    for (const type of EVENTS) api.addEventListener(type, (e) => panel && panel.handleEvent(type, e.detail));
    app.extensionManager.registerSidebarTab({
      id: "civitai-identify",
      title: "CivitAI",
      icon: "pi pi-search",
      tooltip: "CivitAI Identify: which models are these?",
      type: "custom",
      render(el) {
        if (panel) panel.destroy();
        panel = mountPanel(el, { api });
      },
      // newer frontends call this when the tab's content is unmounted
      destroy() {
        if (panel) panel.destroy();
        panel = null;
      },
    });
  },
});
