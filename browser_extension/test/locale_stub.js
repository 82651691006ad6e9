// chrome.i18n for node tests, from _locales/<lang>/messages.json: getMessage with the browser's
// placeholder rules ($NAME$ -> its content -> $1…), getUILanguage. Import it before the modules
// under test; `useLocale("zh_CN")` switches.
import { readFileSync } from "node:fs";

const catalogs = {};

export function messagesOf(lang) {
  catalogs[lang] ??= JSON.parse(readFileSync(new URL(`../_locales/${lang}/messages.json`, import.meta.url), "utf8"));
  return catalogs[lang];
}

export function getMessage(messages, key, substitutions = []) {
  const entry = messages[key];
  if (!entry) return "";
  const subs = Array.isArray(substitutions) ? substitutions : [substitutions];
  const fill = (text) => text.replace(/\$(\d)/g, (_, n) => subs[Number(n) - 1] ?? "");
  return entry.message.replace(/\$([A-Za-z0-9_@]+)\$/g, (whole, name) => {
    const placeholder = (entry.placeholders || {})[name.toLowerCase()];
    return placeholder ? fill(placeholder.content) : whole;
  });
}

export function useLocale(lang) {
  globalThis.chrome = {
    ...(globalThis.chrome || {}),
    i18n: { getMessage: (key, subs) => getMessage(messagesOf(lang), key, subs), getUILanguage: () => lang.replace("_", "-") },
  };
}

useLocale("en");
