// Signing in: this browser becomes a device of the account (platform "browser") with its own key,
// either by claiming a one-time pairing code made on the computer ("Add a phone") or with the
// account's username and password. Used by the sign-in page and the tests.

import { BROWSER_PLATFORM } from "./protocol.js";
import { deviceKey } from "./keystore.js";
import { Relay, RelayError, normalRelayUrl } from "./relay.js";
import { t } from "./i18n.js";
import { browserDeviceId, browserDeviceName, clearSession, loadSession, saveSession } from "./session.js";

async function deviceFields() {
  const key = await deviceKey();
  return { id: await browserDeviceId(), name: browserDeviceName(), model: navigator.userAgent.slice(0, 100),
    platform: BROWSER_PLATFORM, public_key: key.publicKeyBase64 };
}

function relayFor(typedUrl) {
  const url = normalRelayUrl(typedUrl);
  if (!url) throw new RelayError(t("typeRelayAddress"));
  return new Relay(url);
}

async function remember(relay, answer) {
  const session = { relayUrl: relay.baseUrl, token: answer.token, deviceId: answer.device.id,
    deviceName: answer.device.name, username: answer.account.username };
  await saveSession(session);
  return { ...session, pairedBy: answer.paired_by || null };
}

/** Claim a pairing code ("ABCD-EFGH"): the account's devices trust this browser's key at once. */
export async function pairWithCode(typedUrl, code) {
  const relay = relayFor(typedUrl);
  if (!String(code || "").trim()) throw new RelayError(t("typePairingCode"));
  return remember(relay, await relay.claimPairing(String(code).trim(), await deviceFields()));
}

/** Log in with username and password (a phone logging in after this pins this browser's key). */
export async function logIn(typedUrl, username, password) {
  const relay = relayFor(typedUrl);
  if (!username || !password) throw new RelayError(t("typeUsernamePassword"));
  return remember(relay, await relay.login(String(username).trim(), password, await deviceFields()));
}

/** Sign out: the relay revokes this browser's token; the key stays for the next sign-in. */
export async function signOut() {
  const session = await loadSession();
  if (session) {
    try {
      await new Relay(session.relayUrl, session.token).logout();
    } catch {
      // signed out here either way; the relay revokes it when the device is removed in People
    }
  }
  await clearSession();
}
