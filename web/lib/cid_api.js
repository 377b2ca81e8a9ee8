// Thin client for the pack's HTTP routes through ComfyUI's api.fetchApi (which prefixes
// /api). Every failure becomes an ApiError with a sentence for the user. No side effects.

const BASE = "/civitai-identify";

export class ApiError extends Error {
  constructor(message, status = 0) {
    super(message);
    this.name = "ApiError";
    this.status = status;
  }
}

/** createClient(api) → { status(), models(params), facets(params), model(folder, name),
 *  identify(...), scan(...), scanStatus(), cancelScan(), link(...), unlink(...),
 *  preview(...) } — each resolves to the parsed
 *  JSON body. */
/** URL query text from an object; empty and null values are left out. */
function query(params) {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

export function createClient(api) {
  async function call(path, { method = "GET", body } = {}) {
    let response;
    try {
      response = await api.fetchApi(BASE + path, {
        method,
        headers: body ? { "Content-Type": "application/json" } : undefined,
        body: body ? JSON.stringify(body) : undefined,
        cache: "no-store",
      });
    } catch (err) {
      throw new ApiError(`Could not reach ComfyUI (${err.message || err}). Is it still running?`);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const detail = data && (data.error || data.message);
      if (response.status === 404 && !data) {
        throw new ApiError("The CivitAI Identify routes are missing: is the pack loaded? Check ComfyUI's console for import errors.", 404);
      }
      throw new ApiError(detail || `The server answered ${response.status} ${response.statusText || ""}`.trim(), response.status);
    }
    return data;
  }
  const path = (folder, name) =>
    `/models/${encodeURIComponent(folder)}/${String(name).split("/").map(encodeURIComponent).join("/")}`;
  return {
    status: () => call("/status"),
    // brief: civitai_info trimmed to what the list shows. With `limit` one page of the
    // records matching the filters, sorted by the server: { models, total, next }.
    models: (params = {}) => call(`/models?${query({ view: "brief", ...params })}`),
    // counts per category / base_model / status for the filter menus
    facets: (params = {}) => {
      const q = query(params);
      return call(q ? `/facets?${q}` : "/facets");
    },
    model: (folder, name) => call(path(folder, name)),
    identify: (folder, name, force = false) => call("/identify", { method: "POST", body: { folder, name, force } }),
    scan: (options) => call("/scan", { method: "POST", body: options }),
    scanStatus: () => call("/scan"),
    cancelScan: () => call("/scan/cancel", { method: "POST", body: {} }),
    // link a file to a CivitAI version by hand (URL or AIR) → { record, warning }
    link: (folder, name, url) => call("/link", { method: "POST", body: { folder, name, url } }),
    unlink: (folder, name) => call("/unlink", { method: "POST", body: { folder, name } }),
    // save <model>.preview.<ext> beside the model → { result, record }
    preview: (folder, name) => call("/preview", { method: "POST", body: { folder, name } }),
  };
}
