// The extension's signatures against the vectors shared/signing.py made (tests/extension/vectors.json).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { canonicalBytes, fingerprint, fromBase64, newPushId, signPush, utcTimestamp, verifyPush, generateKeyPair, publicKeyBase64 } from "../src/signing.js";

const vectors = JSON.parse(readFileSync(new URL("../../tests/extension/vectors.json", import.meta.url), "utf-8"));
const importPrivate = () =>
  crypto.subtle.importKey("pkcs8", fromBase64(vectors.private_key_pkcs8), { name: "Ed25519" }, false, ["sign"]);

for (const [i, vector] of vectors.cases.entries()) {
  test(`case ${i}: the canonical bytes are Python's`, () => {
    assert.equal(new TextDecoder().decode(canonicalBytes(vector.facts)), vector.canonical);
  });

  test(`case ${i}: the signature is Python's, byte for byte`, async () => {
    const signed = await signPush(await importPrivate(), vector.facts);
    assert.equal(signed.value, vector.signature);
    assert.equal(signed.push_id, vector.facts.push_id);
    assert.equal(signed.sha256, vector.facts.sha256);
  });

  test(`case ${i}: Python's signature verifies, and not over other facts`, async () => {
    assert.equal(await verifyPush(vectors.public_key, vector.facts, vector.signature), true);
    const other = { ...vector.facts, device_id: "someone-else" };
    assert.equal(await verifyPush(vectors.public_key, other, vector.signature), false);
    const otherMode = { ...vector.facts, mode: vector.facts.mode === "notify" ? "install_now" : "notify" };
    assert.equal(await verifyPush(vectors.public_key, otherMode, vector.signature), false);
  });
}

test("the fingerprint is the one the relay and the phone show", async () => {
  assert.equal(await fingerprint(vectors.public_key), vectors.fingerprint);
});

test("a new key signs, its public half is 32 bytes, its private half cannot be read out", async () => {
  const pair = await generateKeyPair();
  const publicKey = await publicKeyBase64(pair.publicKey);
  assert.equal(fromBase64(publicKey).length, 32);
  await assert.rejects(crypto.subtle.exportKey("pkcs8", pair.privateKey));
  const facts = { ...vectors.cases[0].facts, push_id: newPushId(), signed_at: utcTimestamp() };
  const signed = await signPush(pair.privateKey, facts);
  assert.equal(await verifyPush(publicKey, facts, signed.value), true);
});

test("push ids and times have the shapes the relay accepts", () => {
  assert.match(newPushId(), /^p_[0-9a-f]{24}$/);
  assert.equal(utcTimestamp(new Date("2026-11-26T19:48:42.123Z")), "2026-11-26T19:48:42Z");
});
