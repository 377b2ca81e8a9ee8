// Allow-list HTML sanitizer for CivitAI descriptions (HTML written by strangers).
// The HTML is parsed into an inert document (DOMParser runs no scripts and loads nothing),
// then a NEW tree is built in the page's document from allowed tags and attributes only:
// nothing from the parsed tree is ever adopted, so no handler or URL we did not check
// can come along. No side effects on import.

const ALLOWED_TAGS = new Set([
  "p", "br", "b", "i", "em", "strong", "u", "s", "ul", "ol", "li", "a",
  "h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "blockquote", "span", "div", "hr",
]);
// Their content is not text meant for the reader: drop them whole.
const DROPPED_TAGS = new Set([
  "script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math",
  "title", "textarea", "select", "button", "form", "input", "frame", "frameset", "link",
  "meta", "base", "head", "video", "audio", "canvas",
]);
const LINK_BASE = "https://civitai.com/";

/** An absolute http(s) URL for `href`, or null (javascript:, data:, vbscript:, junk). */
export function safeHref(href) {
  if (typeof href !== "string") return null;
  try {
    const url = new URL(href.trim(), LINK_BASE);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** `html` → a DocumentFragment holding only allowed, attribute-free elements (links keep
 *  a checked href and open in a new tab with rel="noopener noreferrer"). */
export function sanitizeHtml(html, doc = document) {
  const out = doc.createDocumentFragment();
  if (!html) return out;
  const parsed = new DOMParser().parseFromString(String(html), "text/html");
  copyChildren(parsed.body, out, doc, 0);
  return out;
}

function copyChildren(from, to, doc, depth) {
  if (depth > 64) return; // pathological nesting: stop rather than overflow the stack
  for (const node of from.childNodes) {
    if (node.nodeType === 3) {
      to.append(doc.createTextNode(node.data));
      continue;
    }
    if (node.nodeType !== 1) continue; // comments, processing instructions
    const tag = node.localName;
    if (DROPPED_TAGS.has(tag)) continue;
    if (tag === "img") {
      const raw = node.getAttribute("src") || "";
      const src = /^https?:\/\//i.test(raw.trim()) ? safeHref(raw) : null; // absolute only
      if (src) to.append(link(doc, src, node.getAttribute("alt") || "[image]"));
      continue;
    }
    if (!ALLOWED_TAGS.has(tag)) {
      copyChildren(node, to, doc, depth + 1); // unknown wrapper: keep its text
      continue;
    }
    const el = doc.createElement(tag);
    if (tag === "a") {
      const href = safeHref(node.getAttribute("href"));
      if (href) {
        el.setAttribute("href", href);
        el.setAttribute("target", "_blank");
        el.setAttribute("rel", "noopener noreferrer");
      }
    }
    copyChildren(node, el, doc, depth + 1);
    to.append(el);
  }
}

function link(doc, href, text) {
  const a = doc.createElement("a");
  a.setAttribute("href", href);
  a.setAttribute("target", "_blank");
  a.setAttribute("rel", "noopener noreferrer");
  a.textContent = text;
  return a;
}
