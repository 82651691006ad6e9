// Install information for a clicked package: from the page's schema.org JSON-LD, else from the link.
//
// The rules of desktop_sender/install_info.py, in JavaScript with no DOM: the service worker hands in
// the texts of the page's <script type="application/ld+json"> elements (read from the tab) and what
// the download said of itself, and gets back the `app` object of POST /api/v1/pushes. The store
// pages' contract is at the end of docs/api.md.

import { FORMAT_MIME_TYPES } from "./protocol.js";
import { downloadFormat, formatFromFilename } from "./formats.js";

/** schema.org types that describe an installable app. */
const APP_TYPES = new Set(["SoftwareApplication", "MobileApplication", "WebApplication", "VideoGame"]);
const VERSION_SUFFIX = /[-_ ]v?(\d+(?:[.\-_]\d+)*[A-Za-z0-9.\-]*)$/;
const NOT_ID_CHARS = /[^A-Za-z0-9._\-]+/g;
const SIZE = /^\s*([\d.,]+)\s*([kmgt]?i?b(?:ytes?)?)?\s*$/i;
const SHA256 = /^[0-9a-f]{64}$/;

/** The JSON values of a page's JSON-LD texts; a block that is not JSON is skipped. */
export function parseJsonLdTexts(texts) {
  const values = [];
  for (const text of texts || []) {
    try {
      values.push(JSON.parse(text));
    } catch {
      // a broken block on someone's page: the others (or the link) still work
    }
  }
  return values;
}

/** Every schema.org app object in the JSON-LD values (lists and @graph flattened). */
export function appObjects(values) {
  const found = [];
  const stack = [...values].reverse();
  while (stack.length) {
    const item = stack.pop();
    if (Array.isArray(item)) {
      stack.push(...[...item].reverse());
    } else if (item && typeof item === "object") {
      if (Array.isArray(item["@graph"])) stack.push(...[...item["@graph"]].reverse());
      const types = Array.isArray(item["@type"]) ? item["@type"] : [item["@type"]];
      if (types.some((t) => typeof t === "string" && APP_TYPES.has(t.split("/").pop()))) found.push(item);
    }
  }
  return found;
}

const asList = (value) => (value === null || value === undefined ? [] : Array.isArray(value) ? value : [value]);

function asText(value) {
  if (Array.isArray(value)) value = value.length ? value[0] : null;
  if (value && typeof value === "object") value = value.value || value.name || value.url || value.contentUrl;
  if (value === null || value === undefined || typeof value === "boolean") return null;
  const text = pyStrip(String(value));
  return text || null;
}

/**
 * White space as Python's str.strip() sees it (the relay strips every text that way, and the
 * version is signed as the relay keeps it): JavaScript's trim() also takes U+FEFF but leaves
 * the separators \x1c-\x1f and U+0085.
 */
const PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");
export const pyStrip = (text) => text.replace(PY_STRIP, "");

function normalUrl(url, base) {
  try {
    const parsed = base ? new URL(url.trim(), base) : new URL(url.trim());
    parsed.hash = "";
    return parsed.href;
  } catch {
    return url.trim();
  }
}

function pathOf(url) {
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}

function fileName(url) {
  const last = pathOf(url).split("/").pop() || "";
  try {
    return decodeURIComponent(last);
  } catch {
    return last; // not valid percent-encoding (a Latin-1 name, a bare %): the name as it is
  }
}
const isHttp = (url) => /^https?:\/\/[^/]/.test(url || "");
const positive = (n) => (Number.isInteger(n) && n > 0 ? n : null);
/** At most `limit` characters (whole ones: an emoji is never cut in half, which the relay would refuse). */
function clip(text, limit) {
  if (text === null) return text;
  const chars = Array.from(text);
  return chars.length <= limit ? text : chars.slice(0, limit - 1).join("") + "…";
}

function packageUrls(obj, base) {
  const urls = asList(obj.downloadUrl).filter((u) => typeof u === "string");
  for (const p of asList(obj["appbeam:packages"])) if (p && typeof p.url === "string") urls.push(p.url);
  return urls.map((u) => normalUrl(u, base));
}

/**
 * The app object whose download URLs contain `clickedUrl`: the exact URL first, then the same
 * path (another host name for the same relay), then the same file name. None matching: null, as
 * a page about one app may link to another app's package.
 */
export function findAppObject(values, clickedUrl, pageUrl = "") {
  const apps = appObjects(values);
  const clicked = normalUrl(clickedUrl, pageUrl);
  const clickedPath = pathOf(clicked);
  const clickedName = fileName(clicked);
  const matchers = [
    (u) => u === clicked,
    (u) => clickedPath !== "" && clickedPath !== "/" && pathOf(u) === clickedPath,
    (u) => clickedName !== "" && fileName(u) === clickedName,
  ];
  for (const matches of matchers) {
    for (const obj of apps) if (packageUrls(obj, pageUrl).some(matches)) return obj;
  }
  return null;
}

/** schema.org fileSize in bytes: 41234567, "41234567", "41 MB", "3.5MiB". */
export function parseFileSize(value) {
  if (typeof value === "number") return value > 0 ? Math.floor(value) : null;
  if (typeof value !== "string") return null;
  const match = SIZE.exec(value);
  if (!match) return null;
  const number = Number(match[1].replaceAll(",", ""));
  if (!Number.isFinite(number)) return null;
  const unit = (match[2] || "").toLowerCase();
  const power = "kmgt".includes(unit[0] || "x") ? "kmgt".indexOf(unit[0]) + 1 : 0;
  const size = Math.floor(number * (unit.includes("i") ? 1024 : 1000) ** power);
  return size > 0 ? size : null;
}

/** Guess [app id, version] from a package file name: "org.videolan.vlc-3.6.0.apk". */
export function appIdFromFileName(name) {
  let stem = String(name).split("/").pop();
  if (formatFromFilename(stem)) stem = stem.slice(0, stem.lastIndexOf("."));
  let version = null;
  const match = VERSION_SUFFIX.exec(stem);
  if (match && match.index > 0) {
    version = match[1];
    stem = stem.slice(0, match.index);
  }
  let id = stem.replace(NOT_ID_CHARS, "-").replace(/^[-._]+|[-._]+$/g, "") || "app";
  if (!/^[A-Za-z0-9]/.test(id)) id = `app-${id}`;
  return [id.slice(0, 200), version];
}

/** Install information from the link and the download alone (no JSON-LD). */
export function infoFromLink(link) {
  const format = downloadFormat(link);
  const shown = link.filename ? link.filename.split(/[\\/]/).pop() : fileName(link.url) || link.url;
  const [id, version] = appIdFromFileName(shown);
  const size = positive(link.totalBytes);
  const packages = format && isHttp(link.url) ? [{ format, url: link.url, sha256: null, size }] : [];
  const name = formatFromFilename(shown) ? shown.slice(0, shown.lastIndexOf(".")) : shown;
  return { id, name, version, version_code: null, size, icon_url: null, runtime: null, description: null, packages };
}

function packagesFrom(obj, base) {
  const packages = new Map();
  for (const raw of asList(obj["appbeam:packages"])) {
    if (!raw || typeof raw !== "object" || typeof raw.url !== "string") continue;
    const format = String(raw.format || "").toLowerCase();
    const url = normalUrl(raw.url, base);
    if (!Object.hasOwn(FORMAT_MIME_TYPES, format) || !isHttp(url) || packages.has(format)) continue;
    const sha = typeof raw.sha256 === "string" && SHA256.test(raw.sha256.toLowerCase()) ? raw.sha256.toLowerCase() : null;
    const size = typeof raw.size === "string" && /^\d+$/.test(raw.size) ? Number(raw.size) : positive(raw.size);
    packages.set(format, { format, url, sha256: sha, size });
  }
  for (const raw of asList(obj.downloadUrl)) {
    if (typeof raw !== "string") continue;
    const url = normalUrl(raw, base);
    const format = formatFromFilename(url);
    if (format && !packages.has(format) && isHttp(url)) packages.set(format, { format, url, sha256: null, size: null });
  }
  return [...packages.values()];
}

/** Install information from one schema.org app object, completed by the clicked link. */
export function infoFromJsonLd(obj, link = null) {
  const base = (link && link.pageUrl) || "";
  const fallback = link && link.url ? infoFromLink(link) : null;
  const packages = packagesFrom(obj, base);
  const clickedFormat = link ? downloadFormat(link) : null;
  if (link && clickedFormat && isHttp(link.url)) {
    // The clicked package must be part of the push even when the page forgot to list it.
    const clicked = normalUrl(link.url, base);
    if (!packages.some((p) => p.url === clicked) && packages.every((p) => p.format !== clickedFormat)) {
      packages.push({ format: clickedFormat, url: clicked, sha256: null, size: positive(link.totalBytes) });
    }
  }
  let id = asText(obj.identifier) || asText(obj["@id"]);
  if (!id || /[^A-Za-z0-9._\-]/.test(id) || id.length > 200) {
    id = fallback ? fallback.id : (id || "app").replace(NOT_ID_CHARS, "-").replace(/^[-._]+|[-._]+$/g, "").slice(0, 200) || "app";
  }
  const icon = asText(obj.image) || asText(obj.thumbnailUrl);
  const iconUrl = icon ? normalUrl(icon, base) : null;
  const code = obj["appbeam:versionCode"];
  let size = parseFileSize(obj.fileSize);
  if (size === null && clickedFormat) {
    size = packages.find((p) => p.format === clickedFormat && p.size)?.size || positive(link.totalBytes);
  }
  const systems = asList(obj.operatingSystem).map(asText).filter(Boolean);
  return {
    id,
    name: clip(asText(obj.name), 200) || (fallback ? fallback.name : null),
    version: clip(asText(obj.softwareVersion), 64) || (fallback ? fallback.version : null),
    version_code: Number.isInteger(code) && code >= 0 ? code : null,
    size,
    icon_url: isHttp(iconUrl) ? iconUrl : null,
    runtime: clip(systems.join(", ") || null, 200),
    description: clip(asText(obj.description), 2000),
    packages: withFirst(packages, clickedFormat).slice(0, 16),
  };
}

function withFirst(packages, format) {
  return [...packages.filter((p) => p.format === format), ...packages.filter((p) => p.format !== format)];
}

/**
 * Install information for a clicked package: {info, fromPage}. `link` is {url, filename, mime,
 * totalBytes, pageUrl}; `jsonLdTexts` the page's JSON-LD element texts (maybe none).
 */
export function resolveInstallInfo(link, jsonLdTexts) {
  const obj = findAppObject(parseJsonLdTexts(jsonLdTexts), link.url, link.pageUrl || "");
  if (obj) return { info: infoFromJsonLd(obj, link), fromPage: true };
  return { info: infoFromLink(link), fromPage: false };
}

/** Install information for a whole page (the toolbar button): its first app object, or null. */
export function infoForPage(jsonLdTexts, pageUrl) {
  const [obj] = appObjects(parseJsonLdTexts(jsonLdTexts));
  return obj ? infoFromJsonLd(obj, { url: "", pageUrl }) : null;
}
