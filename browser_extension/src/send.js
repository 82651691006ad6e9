// One push from the browser: which package each chosen device gets, signed per target, then sent.
// The steps of shared/relay_client.py's RelayClient.push, for the extension's own key.

import { PushMode } from "./protocol.js";
import { chooseFormat } from "./formats.js";
import { newPushId, signPush, utcTimestamp } from "./signing.js";

/** Packages larger than this are not hashed in the browser: the push goes unhashed (the phone asks). */
const MAX_HASHED_BYTES = 512 * 1024 * 1024;

async function sha256Hex(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The packages to be installed whose SHA-256 the page did not give, fetched and hashed, so that
 * the phone can install them by itself. One that cannot be fetched stays unhashed: the phone then
 * shows a notice instead of installing silently.
 */
export async function withHashes(info, formats) {
  const packages = [];
  for (const pkg of info.packages) {
    if (!formats.has(pkg.format) || pkg.sha256) {
      packages.push(pkg);
      continue;
    }
    try {
      const response = await fetch(pkg.url);
      const length = Number(response.headers.get("Content-Length") || 0);
      if (!response.ok || length > MAX_HASHED_BYTES) throw new Error(`HTTP ${response.status}`);
      const body = await response.arrayBuffer();
      packages.push({ ...pkg, sha256: await sha256Hex(body), size: body.byteLength });
    } catch (exc) {
      console.warn("could not hash", pkg.url, exc);
      packages.push(pkg);
    }
  }
  return { ...info, packages };
}

/**
 * Push `info` to `devices` (device objects from GET /devices) in `mode`, signed with this browser's
 * key (src/keystore.js deviceKey()): the relay's pushes, one per device. Friends' devices always
 * get a notice (the relay says so too).
 */
export async function sendPush(relay, key, info, mode, devices) {
  try {
    return await signAndSend(relay, key.privateKey, info, mode, devices);
  } catch (exc) {
    if (!["no_public_key", "bad_signature"].includes(exc.code)) throw exc;
  }
  // The relay has no key, or another one, for this browser (its storage was cleared and a new key
  // made): register this one and try once more. Phones announce the changed key to their user.
  await relay.registerKey(key.publicKeyBase64);
  return signAndSend(relay, key.privateKey, info, mode, devices);
}

async function signAndSend(relay, privateKey, info, mode, devices) {
  const chosen = new Map(devices.map((d) => [d.id, chooseFormat(d.platform, info.packages.map((p) => p.format))]));
  if (mode === PushMode.INSTALL_NOW) {
    info = await withHashes(info, new Set([...chosen.values()].filter(Boolean)));
  }
  const signedAt = utcTimestamp();
  const signatures = {};
  for (const [deviceId, format] of chosen) {
    if (!format) continue; // no package it can install: the relay says which
    const pkg = info.packages.find((p) => p.format === format);
    const facts = { push_id: newPushId(), device_id: deviceId, mode, app_id: info.id, version: info.version ?? null,
      format, sha256: pkg.sha256 ?? null, signed_at: signedAt };
    signatures[deviceId] = await signPush(privateKey, facts);
  }
  return relay.push(info, mode, devices.map((d) => d.id), signatures);
}
