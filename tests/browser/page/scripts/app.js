// Stand-in for ComfyUI's /scripts/app.js: only what the panel uses. registerExtension()
// collects extensions; runSetup() calls their setup() (ComfyUI does so after loading all
// extension files); extensionManager.registerSidebarTab() records the tab for the page.
const extensions = [];

export const app = {
  extensions,
  registerExtension(ext) {
    if (!ext || !ext.name) throw new Error("Extensions must have a 'name' property.");
    if (extensions.some((e) => e.name === ext.name)) throw new Error(`Extension named '${ext.name}' already registered.`);
    extensions.push(ext);
  },
  async runSetup() {
    for (const ext of extensions) if (ext.setup) await ext.setup(app);
  },
  extensionManager: {
    tabs: [],
    registerSidebarTab(tab) {
      for (const key of ["id", "title", "type", "render"]) {
        if (!tab[key]) throw new Error(`sidebar tab is missing ${key}`);
      }
      if (this.tabs.some((t) => t.id === tab.id)) throw new Error(`tab ${tab.id} registered twice`);
      this.tabs.push(tab);
    },
  },
};
window.__app = app;
