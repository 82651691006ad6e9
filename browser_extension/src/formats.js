// Which downloads are packages, which format each device gets, and push states in words.
// The same rules as shared/protocol.py (format_from_filename, format_from_mime, choose_format,
// state_label); test/formats.test.js holds them to it.

import { FORMAT_MIME_TYPES, PLATFORM_FORMATS, SITUATION_LABELS, STATE_LABELS } from "./protocol.js";
import { number, t } from "./i18n.js";

/** The package format a file name or URL path ends in ("app.apk" -> "apk"), or null. */
export function formatFromFilename(name) {
  if (!name) return null;
  let path = String(name);
  if (path.includes("://")) {
    try {
      path = new URL(path).pathname;
    } catch {
      return null;
    }
  }
  const stem = path.split("/").pop().toLowerCase();
  if (!stem.includes(".")) return null;
  const ext = stem.slice(stem.lastIndexOf(".") + 1);
  return Object.hasOwn(FORMAT_MIME_TYPES, ext) ? ext : null;
}

/** The package format with this specific MIME type, or null (generic types say nothing). */
export function formatFromMime(mime) {
  const type = String(mime || "").split(";", 1)[0].trim().toLowerCase();
  if (!type || type === "application/octet-stream") return null;
  const found = Object.entries(FORMAT_MIME_TYPES).find(([, m]) => m === type);
  return found ? found[0] : null;
}

/** The format of a download: its MIME type when specific, else its file name, else its URLs. */
export function downloadFormat({ mime = "", filename = "", url = "", finalUrl = "" } = {}) {
  return formatFromMime(mime) || formatFromFilename(filename) || formatFromFilename(finalUrl) || formatFromFilename(url);
}

/** Package formats the platform installs, best first (none for an unknown platform). */
export function formatsFor(platform) {
  return PLATFORM_FORMATS[platform] || [];
}

/** The best format from `offered` that `platform` installs, or null. */
export function chooseFormat(platform, offered) {
  const have = new Set([...offered].map((f) => String(f).toLowerCase()));
  return formatsFor(platform).find((f) => have.has(f)) || null;
}

/** A push state as a person reads it ("Downloading 42%", "Failed: no space"), in the browser's
 * language (the _locales keys state_<state> and situation_<detail>; protocol.js keeps the English
 * labels the relay's protocol defines). */
export function stateLabel(state, percent = null, detail = null) {
  if (state === "downloading" && percent !== null && percent !== undefined) {
    return t("downloadingPercent", [number(percent / 100, { style: "percent" })]);
  }
  if (state === "paused" && Object.hasOwn(SITUATION_LABELS, detail || "")) return t(`situation_${detail.replaceAll(" ", "_")}`);
  if (state === "failed" && detail) return t("failedBecause", [detail]);
  if (state === "delivered" && detail) return t("deliveredDetail", [detail]);
  return Object.hasOwn(STATE_LABELS, state) ? t(`state_${state}`) : state;
}

/** The percentage of a push_update, or null when it does not say. */
export function percentOf(update) {
  const { bytes_done: done, bytes_total: total } = update || {};
  if (!total || done === null || done === undefined) return null;
  return Math.max(0, Math.min(100, Math.floor((done * 100) / total)));
}

/** "41234567" -> "41.2 MB" (decimal units, as shared/formatting.py human_size; the digits in the
 * browser's language). */
export function humanSize(n) {
  if (!n) return "";
  if (n < 1000) return t("bytes", [number(n)]);
  let value = n;
  for (const unit of ["kB", "MB", "GB", "TB"]) {
    value /= 1000;
    if (value < 1000 || unit === "TB") {
      const digits = value < 100 ? 1 : 0;
      return `${number(value, { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${unit}`;
    }
  }
  return "";
}
