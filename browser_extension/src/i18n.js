// The extension's words in the browser's language, the WebExtension way: _locales/<lang>/messages.json
// read through chrome.i18n.getMessage (English and Simplified Chinese; the browser picks by its UI
// language and falls back to default_locale, English).
//
// Plurals: chrome.i18n has none, so a counted message has one key per CLDR plural category
// ("selected_one", "selected_other"), chosen with Intl.PluralRules in the browser's language;
// every locale carries the same keys (Chinese has only "other": its "_one" says the same).
// Numbers go through Intl.NumberFormat. Pages mark their static text with data-i18n attributes
// and fillPage() fills them in.

/** The language of the words the extension shows ("en", "zh-CN"): the catalog's own "locale"
 * message, since the browser falls back to English for a language we have no catalog for (and
 * headless Chromium's getUILanguage() says en-US whatever --lang chose). */
export function uiLanguage() {
  return globalThis.chrome?.i18n?.getMessage?.("locale") || globalThis.chrome?.i18n?.getUILanguage?.() || "en";
}

/** The message `key` with its placeholders filled in order ($1, $2…); the key itself if it is missing. */
export function t(key, substitutions = []) {
  const text = chrome.i18n.getMessage(key, substitutions.map(String));
  if (!text) console.warn("no message", key);
  return text || key;
}

/** A number in the browser's language (grouping, digits, decimals). */
export function number(value, options = {}) {
  return new Intl.NumberFormat(uiLanguage(), options).format(value);
}

/** A counted message: `${key}_${category}` for n in the browser's language, n formatted as its first placeholder. */
export function plural(key, n, substitutions = []) {
  const category = new Intl.PluralRules(uiLanguage()).select(n);
  const chosen = chrome.i18n.getMessage(`${key}_${category}`) ? `${key}_${category}` : `${key}_other`;
  return t(chosen, [number(n), ...substitutions]);
}

/**
 * Fill a page's marked elements: data-i18n (text), data-i18n-placeholder, data-i18n-title,
 * data-i18n-aria-label; <html lang> and dir follow the language. A message with a $BUTTON$-like
 * placeholder takes the element's own child marked data-i18n-part (kept as is, e.g. bold).
 */
export function fillPage(root = document) {
  document.documentElement.lang = uiLanguage();
  document.documentElement.dir = chrome.i18n.getMessage("@@bidi_dir") || "ltr";
  for (const node of root.querySelectorAll("[data-i18n]")) {
    const part = node.querySelector("[data-i18n-part]");
    if (part) {
      if (part.dataset.i18nPart) part.textContent = t(part.dataset.i18nPart);
      // U+FFFC OBJECT REPLACEMENT CHARACTER marks the element's place (chrome.i18n drops a NUL).
      const [before, after] = t(node.dataset.i18n, ["\uFFFC"]).split("\uFFFC");
      node.replaceChildren(before, part, after ?? "");
    } else {
      node.textContent = t(node.dataset.i18n);
    }
  }
  for (const [attribute, property] of [["i18nPlaceholder", "placeholder"], ["i18nTitle", "title"], ["i18nAriaLabel", "ariaLabel"]]) {
    const selector = `[data-${attribute.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}]`;
    for (const node of root.querySelectorAll(selector)) node[property] = t(node.dataset[attribute]);
  }
}
