// The service worker: turns package downloads, "Send to my phone…" on a link and the toolbar button
// into the device picker, opened in a popup window of its own (picker.html).
//
// It reads the page's schema.org JSON-LD from the tab (chrome.scripting), works out the install
// information (src/install_info.js) and hands it to the picker through chrome.storage.session.
// Talking to the relay, signing and following the push are the picker's job; once the picker is
// closed, this worker follows the pushes still under way to their notification (src/follow.js).

import { downloadFormat } from "./src/formats.js";
import { announceEnd, followed, unfollow } from "./src/follow.js";
import { linkFacts } from "./src/headers.js";
import { infoForPage, infoFromLink, resolveInstallInfo } from "./src/install_info.js";
import { Relay } from "./src/relay.js";
import { loadSession } from "./src/session.js";
import { t } from "./src/i18n.js";

const MENU_ID = "appbeam-send-link";
const PICKER = { width: 560, height: 700 };
/** Downloads the user asked to keep on this computer ("Download to this computer"): not taken over. */
const PASS_KEY = "passThrough";

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: MENU_ID, title: t("menuSendLink"), contexts: ["link"] });
});

/** The texts of the page's <script type="application/ld+json"> elements (none if it cannot be read). */
async function jsonLdOf(tabId) {
  if (tabId === undefined || tabId < 0) return [];
  try {
    const [result] = await chrome.scripting.executeScript({
      target: { tabId },
      func: () => [...document.querySelectorAll('script[type="application/ld+json"]')].map((s) => s.textContent),
    });
    return (result && result.result) || [];
  } catch (exc) {
    console.info("no JSON-LD from tab", tabId, String(exc)); // a browser page, or one closed meanwhile
    return [];
  }
}

/** The tab a download came from: the one showing its referrer (the active one first). */
async function tabShowing(url) {
  if (!url) return null;
  const tabs = await chrome.tabs.query({});
  const showing = tabs.filter((t) => t.url === url);
  return showing.find((t) => t.active) || showing[0] || null;
}

/** Requests older than this are dropped when a new picker opens (the window is long gone). */
const REQUEST_TTL_MS = 24 * 3600 * 1000;

async function dropOldRequests(now) {
  const all = await chrome.storage.session.get(null);
  const old = Object.keys(all).filter((k) => k.startsWith("request:") && now - (all[k].at || 0) > REQUEST_TTL_MS);
  if (old.length) await chrome.storage.session.remove(old);
}

/** Open the picker for one app: `request` is {info, link, source, fromPage} or {problem}. */
export async function openPicker(request) {
  await dropOldRequests(Date.now());
  const id = crypto.randomUUID();
  await chrome.storage.session.set({ [`request:${id}`]: { ...request, at: Date.now() } });
  const url = chrome.runtime.getURL(`picker.html?request=${id}`);
  await chrome.windows.create({ url, type: "popup", ...PICKER });
  return id;
}

/** What the link's server says of it (a HEAD request): MIME type, file name, size, the URL it
 * redirects to; {} if nothing. */
async function askServer(url) {
  try {
    const response = await fetch(url, { method: "HEAD", credentials: "include" });
    return response.ok ? linkFacts(response) : {};
  } catch {
    return {}; // the server does not answer: the link alone has to do
  }
}

/** A link to a package (clicked, or right-clicked): its app, from the page when the page says. */
export async function handleLink(link, tabId) {
  const jsonLd = await jsonLdOf(tabId);
  let { info, fromPage } = resolveInstallInfo(link, jsonLd);
  if (!fromPage && link.source === "link" && /^https?:/.test(link.url)) {
    // A bare link from the context menu: its server's answer tells the format, name and size.
    const facts = await askServer(link.url);
    link = { ...link, ...facts, url: facts.finalUrl || link.url }; // the file itself, as the page may list it
    ({ info, fromPage } = resolveInstallInfo(link, jsonLd));
  }
  return openPicker({ info, link, fromPage, source: link.source });
}

/** The toolbar button: the app the current page describes, or the package the tab shows. */
export async function handlePage(tab) {
  const info = infoForPage(await jsonLdOf(tab.id), tab.url);
  if (info) return openPicker({ info, link: { url: "", pageUrl: tab.url }, fromPage: true, source: "page" });
  if (downloadFormat({ url: tab.url || "" })) {
    return openPicker({ info: infoFromLink({ url: tab.url }), link: { url: tab.url }, fromPage: false, source: "page" });
  }
  return openPicker({ problem: t("pageOffersNoApp") });
}

async function passThrough() {
  const { [PASS_KEY]: urls = [] } = await chrome.storage.session.get(PASS_KEY);
  return urls;
}

/** Download `url` here after all: this one download is let through. */
export async function downloadHere(url) {
  await chrome.storage.session.set({ [PASS_KEY]: [...(await passThrough()), url] });
  return chrome.downloads.download({ url });
}

async function onDownload(item) {
  const urls = await passThrough();
  if (urls.includes(item.url) || urls.includes(item.finalUrl)) {
    await chrome.storage.session.set({ [PASS_KEY]: urls.filter((u) => u !== item.url && u !== item.finalUrl) });
    return;
  }
  const link = { url: item.finalUrl || item.url, filename: item.filename || "", mime: item.mime || "",
    totalBytes: item.totalBytes > 0 ? item.totalBytes : null, pageUrl: item.referrer || "", source: "download" };
  if (!downloadFormat(link) && !downloadFormat({ url: item.url })) return; // not a package: a file to save
  try {
    await chrome.downloads.cancel(item.id);
    await chrome.downloads.erase({ id: item.id });
  } catch (exc) {
    console.info("download", item.id, "was gone already", String(exc));
  }
  try {
    const tab = await tabShowing(item.referrer);
    await handleLink(link, tab ? tab.id : undefined);
  } catch (exc) {
    // The download was cancelled above: whatever went wrong, the person still gets the file.
    console.error("could not open the picker; downloading as usual", exc);
    await downloadHere(item.url);
  }
}

chrome.downloads.onCreated.addListener((item) => {
  onDownload(item).catch((exc) => console.error("could not take over the download", exc));
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId !== MENU_ID || !info.linkUrl) return;
  handleLink({ url: info.linkUrl, pageUrl: info.pageUrl || (tab && tab.url) || "", source: "link" }, tab && tab.id)
    .catch((exc) => console.error("could not open the picker", exc));
});

chrome.action.onClicked.addListener((tab) => {
  handlePage(tab).catch((exc) => console.error("could not open the picker", exc));
});

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  if (message && message.type === "download-here" && typeof message.url === "string") {
    downloadHere(message.url).then(() => reply({ ok: true }), (exc) => reply({ ok: false, error: String(exc) }));
    return true;
  }
  return false;
});

// ------------------------------------------------------------------ pushes the picker no longer follows

const FOLLOW_ALARM = "appbeam-follow";
// Made once: creating it again at each start of the worker would put its next round off each time.
chrome.alarms.get(FOLLOW_ALARM).then((alarm) => alarm || chrome.alarms.create(FOLLOW_ALARM, { periodInMinutes: 0.5 }));

/** Ask the relay about each followed push; announce the ones that ended. */
export async function followNow() {
  const following = await followed();
  const ids = Object.keys(following);
  const session = await loadSession();
  if (!ids.length || !session) return 0;
  const relay = new Relay(session.relayUrl, session.token);
  let ended = 0;
  for (const id of ids) {
    try {
      const push = await relay.pushById(id);
      if (await announceEnd(push, following[id].app)) ended += 1;
    } catch (exc) {
      if (exc.status === 404 || exc.status === 401) await unfollow([id]); // gone, or signed out
    }
  }
  return ended;
}

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === FOLLOW_ALARM) followNow().catch((exc) => console.info("could not follow pushes", String(exc)));
});

// For the tests (and the curious): the handlers, callable from the service worker's console.
globalThis.appbeam = { handleLink, handlePage, openPicker, downloadHere, followNow };
