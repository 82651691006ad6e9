// Both locales say everything: the same keys, no empty message, the same placeholders; counted
// messages have every plural category the language needs; and the words reach the formatting helpers.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
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
