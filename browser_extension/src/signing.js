// Signed pushes from the browser: the same canonical bytes and Ed25519 signatures as shared/signing.py.
//
// The phone installs silently only a push signed by a key it trusts, over exactly the package it is
// given. The extension signs with its own key (src/keystore.js keeps it, non-extractable); the
// shared vectors in tests/extension/vectors.json prove this file and the Python one agree.

import { SIGNING_CONTEXT } from "./protocol.js";

const ED25519 = { name: "Ed25519" };

/** Fact names a signature covers, as shared.signing.PushFacts has them. */
export const FACT_NAMES = Object.freeze(["push_id", "device_id", "mode", "app_id", "version", "format", "sha256", "signed_at"]);

/**
 * The exact bytes signed: the facts with the context string, as sorted, compact, ASCII-only JSON
 * (Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True)).
 */
export function canonicalBytes(facts) {
  const all = { context: SIGNING_CONTEXT };
  for (const name of FACT_NAMES) {
    const value = facts[name];
    if (value !== null && value !== undefined && typeof value !== "string") throw new TypeError(`${name} must be text or null`);
    all[name] = value === undefined ? null : value;
  }
  const sorted = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]]));
  // Everything from DEL (0x7f) up is written as \uXXXX, as Python's ensure_ascii does.
  const text = JSON.stringify(sorted).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return new TextEncoder().encode(text);
}

export function toBase64(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}

export function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** A new key pair for this browser; the private half can sign but never be read out. */
export function generateKeyPair() {
  return crypto.subtle.generateKey(ED25519, false, ["sign", "verify"]);
}

/** The public key as the relay registers it: base64 of the 32 raw bytes. */
export async function publicKeyBase64(publicKey) {
  return toBase64(await crypto.subtle.exportKey("raw", publicKey));
}

/** Sign `facts` for one target: the `signatures[device_id]` entry of POST /pushes. */
export async function signPush(privateKey, facts) {
  const value = await crypto.subtle.sign(ED25519, privateKey, canonicalBytes(facts));
  return { push_id: facts.push_id, signed_at: facts.signed_at, sha256: facts.sha256 ?? null, value: toBase64(value) };
}

/** True if `signature` (base64) was made over `facts` by the key `publicKey` (base64). */
export async function verifyPush(publicKey, facts, signature) {
  try {
    const key = await crypto.subtle.importKey("raw", fromBase64(publicKey), ED25519, false, ["verify"]);
    return await crypto.subtle.verify(ED25519, key, fromBase64(signature), canonicalBytes(facts));
  } catch {
    return false;
  }
}

/** A fresh push id ("p_" and 24 hex digits, like the relay's own): the sender picks it to sign it. */
export function newPushId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return "p_" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** "2026-11-26T19:48:42Z": the form signed_at takes. */
export function utcTimestamp(when = new Date()) {
  return when.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The short form of a key people compare between devices: "3f2a 91c0 77de 0b14". */
export async function fingerprint(publicKey) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", fromBase64(publicKey)));
  const hex = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{4}/g).join(" ");
}
