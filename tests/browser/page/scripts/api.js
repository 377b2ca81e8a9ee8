// Stand-in for ComfyUI's /scripts/api.js: fetchApi(route) → fetch("/api" + route), and an
// EventTarget fed by the test server's websocket ({"type", "data"} messages, as ComfyUI's
// server sends them), dispatched as CustomEvents whose .detail is the data.
class Api extends EventTarget {
  constructor() {
    super();
    this.apiBase = "/api";
    this.events = []; // every event received, for the test driver
    this.ready = new Promise((resolve) => (this._opened = resolve));
    this.#connect();
  }

  apiURL(route) {
    return this.apiBase + route;
  }

  fetchApi(route, options = {}) {
    return fetch(this.apiURL(route), options);
  }

  #connect() {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
    ws.addEventListener("open", () => this._opened());
    ws.addEventListener("message", (e) => {
      const msg = JSON.parse(e.data);
      this.events.push({ type: msg.type, data: msg.data, at: performance.now() });
      this.dispatchEvent(new CustomEvent(msg.type, { detail: msg.data }));
    });
    ws.addEventListener("close", () => setTimeout(() => this.#connect(), 500));
  }
}

export const api = new Api();
window.__api = api;
