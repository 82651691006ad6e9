// Both locales say everything: the same keys, no empty message, the same placeholders; counted
// messages have every plural category the language needs; and the words reach the formatting helpers.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

import { messagesOf, useLocale } from "./locale_stub.js";
import { humanSize, stateLabel } from "../src/formats.js";
import { plural } from "../src/i18n.js";

const LOCALES = readdirSync(new URL("../_locales/", import.meta.url));
const placeholdersOf = (entry) => [...entry.message.matchAll(/\$([A-Za-z0-9_]+)\$/g)].map((m) => m[1].toLowerCase()).sort();

test("English and Simplified Chinese are there", () => {
  assert.deepEqual([...LOCALES].sort(), ["en", "zh_CN"]);
});

test("every locale has the same keys, none empty, with the same placeholders", () => {
  const english = messagesOf("en");
  for (const lang of LOCALES) {
    const messages = messagesOf(lang);
    assert.deepEqual(Object.keys(messages).sort(), Object.keys(english).sort(), lang);
    for (const [key, entry] of Object.entries(messages)) {
      assert.ok(entry.message.trim(), `${lang}: ${key} is empty`);
      assert.deepEqual(placeholdersOf(entry), placeholdersOf(english[key]), `${lang}: ${key}'s placeholders`);
      for (const name of placeholdersOf(entry)) assert.ok(entry.placeholders?.[name], `${lang}: ${key} does not define $${name}$`);
    }
  }
});

test("counted messages have the plural categories each language uses", () => {
  const english = messagesOf("en");
  const counted = new Set(Object.keys(english).filter((k) => /_(zero|one|two|few|many|other)$/.test(k)).map((k) => k.replace(/_[a-z]+$/, "")));
  for (const lang of LOCALES) {
    const categories = new Intl.PluralRules(lang.replace("_", "-")).resolvedOptions().pluralCategories;
    for (const key of counted) for (const c of categories) assert.ok(messagesOf(lang)[`${key}_${c}`], `${lang}: ${key}_${c}`);
  }
});

test("plurals, sizes and states in both languages", () => {
  useLocale("en");
  assert.equal(plural("lastSeenDays", 1), "last seen 1 day ago");
  assert.equal(plural("lastSeenDays", 3), "last seen 3 days ago");
  assert.equal(humanSize(812), "812 B");
  assert.equal(humanSize(1234567890123456), "1,235 TB");
  assert.equal(stateLabel("downloading", 42), "Downloading 42%");
  useLocale("zh_CN");
  assert.equal(plural("lastSeenDays", 1), "上次在线：1 天前");
  assert.equal(plural("selected", 2), "已选择 2 台");
  assert.equal(humanSize(812), "812 字节");
  assert.equal(humanSize(41234567), "41.2 MB");
  assert.equal(stateLabel("installed"), "已安装");
  assert.equal(stateLabel("paused", null, "waiting for the relay"), "等待中继");
  useLocale("en");
});

// ------------------------------------------------------------------ the code uses the catalog, and only it

const ROOT = new URL("../", import.meta.url);
const read = (name) => readFileSync(new URL(name, ROOT), "utf8");
const SCRIPTS = ["background.js", "picker.js", "signin.js", ...readdirSync(new URL("src/", ROOT)).map((f) => `src/${f}`)];
const PAGES = ["picker.html", "signin.html"];
/** Keys made at run time from a protocol value: state_<state>, situation_<detail>, err_<code>. */
const FAMILIES = ["state_", "situation_", "err_"];

function usedKeys() {
  const used = new Set(["locale"]);
  const english = messagesOf("en");
  for (const name of SCRIPTS) {
    for (const m of read(name).matchAll(/\b(?:t|plural)\("([A-Za-z0-9_]+)"/g)) used.add(m[1]);
    // A key named in a table (state -> key) and passed to t() from there.
    for (const m of read(name).matchAll(/"([A-Za-z0-9_]+)"/g)) if (Object.hasOwn(english, m[1])) used.add(m[1]);
  }
  for (const name of PAGES) {
    for (const m of read(name).matchAll(/data-i18n(?:-part|-placeholder|-title|-aria-label)?="([A-Za-z0-9_]+)"/g)) used.add(m[1]);
  }
  for (const m of read("manifest.json").matchAll(/__MSG_([A-Za-z0-9_]+)__/g)) used.add(m[1]);
  return used;
}

test("every key the code asks for is in the catalog, and every key is asked for", () => {
  const english = messagesOf("en");
  const used = usedKeys();
  const counted = (key) => Object.hasOwn(english, `${key}_other`);
  for (const key of used) assert.ok(Object.hasOwn(english, key) || counted(key), `${key} is used but not in _locales/en`);
  for (const key of Object.keys(english)) {
    const base = key.replace(/_(zero|one|two|few|many|other)$/, "");
    const dynamic = FAMILIES.some((prefix) => key.startsWith(prefix));
    assert.ok(used.has(key) || used.has(base) || dynamic, `${key} is in the catalog but nothing uses it`);
  }
});

test("no sentence for a person is left as a literal in the code", () => {
  // A string literal that starts with a capital and has a space is a sentence: it belongs in _locales.
  // protocol.js is the wire protocol's English (shared/protocol.py), shown only through state_ keys.
  const literal = /(["'`])([A-Z][a-z]+ [^"'`]*?)\1/g;
  const notWords = new Set(["`Bearer ${this.token}`", '"Windows Phone"']);
  const found = [];
  for (const name of SCRIPTS.filter((n) => n !== "src/protocol.js")) {
    const code = read(name).replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "").replace(/console\.\w+\([^)]*\)/g, "");
    for (const m of code.matchAll(literal)) if (!notWords.has(m[0])) found.push(`${name}: ${m[0]}`);
  }
  assert.deepEqual(found, []);
});
