// Comparing app versions, to tell whether a device has the offered app already: the rules of
// shared/versions.py (the picker's "Installed" and "Update from 3.5 to 3.6").

import { t } from "./i18n.js";

const TOKEN = /\d+|[A-Za-z]+/g;
const isDigits = (t) => /^\d+$/.test(t);
const sign = (x) => (x > 0) - (x < 0);

/** -1, 0 or 1 as version `a` is older than, equal to or newer than `b` (3.10 > 3.9, 2.0rc1 < 2.0). */
export function compareVersions(a, b) {
  const ta = String(a || "").match(TOKEN) || [];
  const tb = String(b || "").match(TOKEN) || [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const [x, y] = [ta[i], tb[i]];
    if (x === y) continue;
    if (isDigits(x) && isDigits(y)) return sign(Number(x) - Number(y));
    if (isDigits(x) !== isDigits(y)) return isDigits(x) ? 1 : -1; // 2.0.1 > 2.0rc1
    const [lx, ly] = [x.toLowerCase(), y.toLowerCase()];
    return lx > ly ? 1 : lx < ly ? -1 : 0;
  }
  if (ta.length === tb.length) return 0;
  const [longer, s] = ta.length > tb.length ? [ta, 1] : [tb, -1];
  const rest = longer.slice(Math.min(ta.length, tb.length));
  if (isDigits(rest[0])) return rest.every((t) => isDigits(t) && Number(t) === 0) ? 0 : s; // 1.0.0 equals 1.0
  return -s; // 1.0beta is older than 1.0
}

/** True when the installed app is at the offered version or newer (version codes win when both have one). */
export function isSameOrNewer(installedVersion, installedCode, offeredVersion, offeredCode) {
  if (installedCode !== null && installedCode !== undefined && offeredCode !== null && offeredCode !== undefined) {
    return installedCode >= offeredCode;
  }
  if (installedVersion && offeredVersion) return compareVersions(installedVersion, offeredVersion) >= 0;
  return (offeredVersion === null || offeredVersion === undefined) && (offeredCode === null || offeredCode === undefined);
}

/** What a device has of the offered app, as the picker says it: ["Installed", true],
 * ["Update from 3.5 to 3.6", false], or null when it has none (or the relay did not say). */
export function installedNote(installed, offered) {
  if (!installed || !offered) return null;
  const { version, version_code: code } = installed;
  const bothCodes = code !== null && code !== undefined && offered.version_code !== null && offered.version_code !== undefined;
  if (isSameOrNewer(version, code, offered.version, offered.version_code)) {
    const same = bothCodes ? code === offered.version_code : !(version && offered.version) || compareVersions(version, offered.version) === 0;
    return [same ? t("installed") : t("hasNewer", [version]), true];
  }
  return [version && offered.version ? t("updateFromTo", [version, offered.version]) : t("updateAvailable"), false];
}
