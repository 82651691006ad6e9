// Following pushes to their end, and the one browser notification each push gets.
//
// The picker window follows its pushes live (the relay's stream). When it is closed before they
// end, the service worker goes on asking the relay (GET /pushes/<id>) on an alarm, so the
// notification still comes. Both note each push they announced in chrome.storage.local, so the
// user hears of each push once.

import { FINAL_STATES } from "./protocol.js";
import { t } from "./i18n.js";

const FOLLOWING = "following"; // push id -> {app, device}
const NOTIFIED = "notified"; // push ids announced (the most recent ones)
const KEEP_NOTIFIED = 200;
const FOLLOW_FOR_MS = 24 * 3600 * 1000;

/** The sentence a push's end is announced with. */
export function endMessage(state, app, device) {
  const key = {
    installed: "endInstalled",
    already_installed: "endAlreadyInstalled",
    declined: "endDeclined",
    cancelled: "endCancelled",
    expired: "endExpired",
  }[state];
  return key ? t(key, [app, device]) : null;
}

/**
 * Announce the end of `push` once: a browser notification, unless this end was announced already.
 * A declined push its phone re-opens (Download again) may end once more, installed: that end is
 * announced too.
 */
export async function announceEnd(push, app) {
  if (!FINAL_STATES.includes(push.state)) return false;
  const key = `${push.id}:${push.state}`;
  const { [NOTIFIED]: notified = [] } = await chrome.storage.local.get(NOTIFIED);
  if (notified.includes(key)) return false;
  await chrome.storage.local.set({ [NOTIFIED]: [...notified, key].slice(-KEEP_NOTIFIED) });
  await unfollow([push.id]);
  const message = endMessage(push.state, app, push.device_name || push.device_id);
  await chrome.notifications.create(`appbeam-${push.id}`, {
    type: "basic", iconUrl: chrome.runtime.getURL("icons/icon-128.png"), title: "Appbeam", message,
  });
  return true;
}

/** Pushes to follow from the service worker until they end: [{id, app, device}]. */
export async function follow(pushes) {
  const { [FOLLOWING]: following = {} } = await chrome.storage.local.get(FOLLOWING);
  for (const p of pushes) following[p.id] = { app: p.app, device: p.device, since: Date.now() };
  await chrome.storage.local.set({ [FOLLOWING]: following });
}

export async function unfollow(ids) {
  const { [FOLLOWING]: following = {} } = await chrome.storage.local.get(FOLLOWING);
  for (const id of ids) delete following[id];
  await chrome.storage.local.set({ [FOLLOWING]: following });
}

/** Followed pushes, without those followed for longer than a day (a device off for days: the
 * relay keeps them, the user was told "Queued", and the browser stops asking). */
export async function followed(now = Date.now()) {
  const { [FOLLOWING]: following = {} } = await chrome.storage.local.get(FOLLOWING);
  const stale = Object.keys(following).filter((id) => now - (following[id].since || 0) > FOLLOW_FOR_MS);
  if (stale.length) await unfollow(stale);
  for (const id of stale) delete following[id];
  return following;
}
