// Who this extension is signed in as: the relay's address, the device's token and id.
// Kept in chrome.storage.local (the token is the relay's bearer token for this device only;
// signing out on the relay, or removing the device in People, revokes it there).

const KEY = "session";

/** {relayUrl, token, deviceId, deviceName, username} or null when not signed in. */
export async function loadSession() {
  const { [KEY]: session } = await chrome.storage.local.get(KEY);
  return session && session.token ? session : null;
}

export function saveSession(session) {
  return chrome.storage.local.set({ [KEY]: session });
}

export function clearSession() {
  return chrome.storage.local.remove(KEY);
}

/** This browser's device id: chosen once, stable across sign-ins (the relay keys devices by it). */
export async function browserDeviceId() {
  const { deviceId } = await chrome.storage.local.get("deviceId");
  if (deviceId) return deviceId;
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const fresh = "browser-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  await chrome.storage.local.set({ deviceId: fresh });
  return fresh;
}

/** "Chromium on Linux": how this device shows in the account's device lists. */
export function browserDeviceName() {
  const ua = navigator.userAgent;
  const browser = /Firefox\//.test(ua) ? "Firefox" : /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chromium" : "Browser";
  const system = /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Linux|X11/.test(ua) ? "Linux" : "a computer";
  return `${browser} on ${system}`;
}
