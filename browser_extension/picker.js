// The device picker window: the app, the account's and friends' devices, the two send buttons,
// then the push followed state by state until it is installed (a browser notification says so).
// It looks and behaves like desktop_sender/picker.py; the service worker opened it with the app's
// install information in chrome.storage.session (request=<id> in the URL).

import { FINAL_STATES, PLATFORM_LABELS, PushMode, REOPENABLE_STATES, StreamEvent } from "./src/protocol.js";
import { humanSize, percentOf, stateLabel } from "./src/formats.js";
import { announceEnd, follow } from "./src/follow.js";
import { deviceKey } from "./src/keystore.js";
import { Relay, RelayError, hostOf } from "./src/relay.js";
import { sendPush } from "./src/send.js";
import { installedNote } from "./src/versions.js";
import { clearSession, loadSession } from "./src/session.js";
import { fillPage, plural, t } from "./src/i18n.js";

const $ = (id) => document.getElementById(id);
const STREAM_RETRY_MS = 3000;

const picker = {
  request: null,
  session: null,
  relay: null,
  devices: [],
  selected: new Set(),
  sending: false,
  pushes: new Map(), // push id -> the push as the relay last told
  notified: new Set(),
  stream: null, // AbortController of the open event stream
  lastEventId: null,
};

// ------------------------------------------------------------------ small helpers

function lastSeenText(iso) {
  if (!iso) return t("neverSeen");
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return t("lastSeenAWhile");
  if (seconds < 60) return t("lastSeenNow");
  if (seconds < 3600) return plural("lastSeenMinutes", Math.floor(seconds / 60));
  if (seconds < 86400) return plural("lastSeenHours", Math.floor(seconds / 3600));
  return plural("lastSeenDays", Math.floor(seconds / 86400));
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function setStatus(text) {
  $("status").textContent = text || "";
  show("status", Boolean(text));
}

function setProblem(text, { retry = false, signIn = false } = {}) {
  $("problem").textContent = text || "";
  show("problem", Boolean(text));
  show("retry-row", Boolean(text) && retry);
  show("signin-row", signIn);
}

// ------------------------------------------------------------------ the app

function renderApp(info, link) {
  $("app-name").textContent = info.name || info.id;
  document.title = t("pickerTitleApp", [info.name || info.id]);
  const meta = [];
  if (info.version) meta.push(t("version", [info.version]));
  const size = humanSize(info.size);
  if (size) meta.push(size);
  if (info.packages.length) meta.push(info.packages.map((p) => p.format.toUpperCase()).join(", "));
  const source = hostOf((link && (link.pageUrl || link.url)) || "");
  if (source) meta.push(t("fromSite", [source]));
  $("app-meta").textContent = meta.join(" · ") || info.id;
  $("app-runtime").textContent = info.runtime ? t("runsOn", [info.runtime]) : info.id;
  const icon = $("app-icon");
  icon.textContent = (info.name || info.id || "?")[0].toUpperCase();
  if (info.icon_url) {
    const img = el("img", { alt: "", src: info.icon_url });
    img.addEventListener("load", () => icon.replaceChildren(img));
  }
  const saveUrl = (link && link.url) || (info.packages[0] && info.packages[0].url);
  show("save-row", Boolean(saveUrl));
  $("save").onclick = async () => {
    await chrome.runtime.sendMessage({ type: "download-here", url: saveUrl });
    window.close();
  };
}

// ------------------------------------------------------------------ devices

function renderDevices() {
  const list = $("devices");
  list.replaceChildren();
  for (const device of picker.devices) {
    const friend = device.relation === "friend";
    const compatible = device.compatible !== false;
    const checked = picker.selected.has(device.id);
    const box = el("input", { type: "checkbox", checked, disabled: !compatible || picker.sending, id: `device-${device.id}` });
    box.addEventListener("change", () => toggle(device.id, box.checked));
    const chips = [];
    if (friend) chips.push(el("span", { class: "chip friend" }, t("friendsDevice", [device.owner])));
    const installed = installedNote(device.installed, picker.request.info);
    if (installed) chips.push(el("span", { class: `chip ${installed[1] ? "installed" : "update"}` }, installed[0]));
    chips.push(device.online ? el("span", { class: "chip online" }, t("online")) : el("span", { class: "chip" }, t("offline")));
    const platform = device.platform === "browser" ? t("platformBrowser") : PLATFORM_LABELS[device.platform] || device.platform;
    const model = [device.model, platform].filter(Boolean).join(" · ");
    const detail = device.online ? model : `${model} · ${lastSeenText(device.last_seen)}`;
    let note = "";
    if (!compatible) note = t("cantInstall", [device.reason || t("noPackageForDevice")]);
    else if (!device.online) note = t("offlineNote");
    const row = el("li", { class: `device${checked ? " checked" : ""}${compatible ? "" : " incompatible"}`,
      title: compatible ? "" : note, dataset: { deviceId: device.id } },
    el("div", { class: "top" }, el("label", { htmlFor: box.id }, box, device.name || device.id), ...chips),
    el("div", { class: "detail" }, detail),
    note ? el("div", { class: "reason" }, note) : null);
    row.addEventListener("click", (event) => {
      if (event.target === box || event.target.closest("label") || !compatible || picker.sending) return;
      box.checked = !box.checked;
      toggle(device.id, box.checked);
    });
    list.append(row);
  }
  if (!picker.devices.length) {
    list.append(el("li", { class: "reason" }, t("noDevices")));
  }
  updateButtons();
}

function toggle(deviceId, on) {
  if (on) picker.selected.add(deviceId);
  else picker.selected.delete(deviceId);
  document.querySelector(`[data-device-id="${CSS.escape(deviceId)}"]`)?.classList.toggle("checked", on);
  updateButtons();
}

function selectedDevices() {
  return picker.devices.filter((d) => picker.selected.has(d.id) && d.compatible !== false);
}

function updateButtons() {
  const selected = selectedDevices();
  const friendSelected = selected.some((d) => d.relation === "friend");
  const canSend = selected.length > 0 && !picker.sending;
  $("notify").disabled = !canSend;
  $("install").disabled = !canSend || friendSelected;
  $("install").title = friendSelected ? t("friendInstallNowTip") : t("installTip");
  $("notify").title = t("notifyTip");
  $("hint").textContent = selected.length ? plural("selected", selected.length) : t("chooseDevices");
}

async function loadDevices() {
  setProblem("");
  setStatus(t("askingRelay", [hostOf(picker.session.relayUrl)]));
  show("choose", false);
  const { info } = picker.request;
  try {
    picker.devices = await picker.relay.devices(info.packages.map((p) => p.format), info.id);
  } catch (exc) {
    setStatus("");
    if (exc instanceof RelayError && exc.status === 401) {
      await clearSession();
      setProblem(t("signedOutSignIn"), { signIn: true });
    } else {
      setProblem(exc instanceof RelayError ? exc.message : t("devicesFailed"), { retry: true });
    }
    return;
  }
  setStatus("");
  show("choose", true);
  renderDevices();
}

// ------------------------------------------------------------------ sending and following

async function send(mode) {
  const devices = selectedDevices();
  if (!devices.length || picker.sending) return;
  if (mode === PushMode.INSTALL_NOW && devices.some((d) => d.relation === "friend")) return;
  picker.sending = true;
  show("send-error", false);
  $("install").textContent = t("sending");
  renderDevices();
  openStream(); // before the push: its first states must not pass by unseen
  let pushes;
  try {
    const key = await deviceKey();
    pushes = await sendPush(picker.relay, key, picker.request.info, mode, devices);
  } catch (exc) {
    picker.sending = false;
    $("install").textContent = t("sendInstall");
    $("send-error").textContent = t("notSent", [exc instanceof RelayError ? exc.message : t("somethingWrong")]);
    show("send-error", true);
    closeStream();
    renderDevices();
    return;
  }
  show("choose", false);
  show("save-row", false);
  show("progress", true);
  for (const push of pushes) picker.pushes.set(push.id, push);
  // Should this window close first, the service worker follows them to the end.
  const app = picker.request.info.name || picker.request.info.id;
  await follow(pushes.map((p) => ({ id: p.id, app, device: p.device_name || p.device_id })));
  renderPushes();
  // What happened before the stream was open: read each push once.
  for (const push of pushes) refreshPush(push.id);
}

async function refreshPush(pushId) {
  try {
    const fresh = await picker.relay.pushById(pushId);
    const known = picker.pushes.get(pushId);
    if (!known || known.updated_at === undefined || (fresh.updated_at || "") >= (known.updated_at || "")) {
      picker.pushes.set(pushId, { ...known, ...fresh });
      renderPushes();
    }
  } catch (exc) {
    console.info("could not read push", pushId, String(exc));
  }
}

function renderPushes() {
  const list = $("pushes");
  list.replaceChildren();
  for (const push of picker.pushes.values()) {
    const percent = percentOf(push);
    const done = push.state === "installed" || push.state === "already_installed";
    const bad = ["failed", "declined", "cancelled", "expired"].includes(push.state);
    const width = done ? 100 : percent ?? (["verifying", "installing"].includes(push.state) ? 100 : 0);
    list.append(el("li", { class: `push${done ? " done" : ""}${bad ? " failed" : ""}`, dataset: { pushId: push.id, state: push.state } },
      el("div", { class: "top" }, el("span", {}, push.device_name || push.device_id),
        el("span", { class: "state" }, stateLabel(push.state, percent, push.detail))),
      el("div", { class: "bar" }, el("div", { style: `width: ${width}%` })),
      push.mode === "notify" && push.requested_mode === "install_now"
        ? el("div", { class: "reason" }, t("friendGetsNotice")) : null));
    if (FINAL_STATES.includes(push.state) && !picker.notified.has(`${push.id}:${push.state}`)) {
      picker.notified.add(`${push.id}:${push.state}`);
      announceEnd(push, picker.request.info.name || picker.request.info.id)
        .catch((exc) => console.info("no notification", String(exc)));
    }
  }
  const all = [...picker.pushes.values()];
  // Done when nothing more can happen; a declined push may still be re-opened on its phone, so
  // the stream stays open for it while this window is.
  if (all.length && all.every((p) => FINAL_STATES.includes(p.state) && !REOPENABLE_STATES.includes(p.state))) {
    $("live").textContent = t("done");
    closeStream();
  }
}

function onStreamEvent(name, data) {
  if (name !== StreamEvent.PUSH_UPDATE || !picker.pushes.has(data.push_id)) return;
  const push = picker.pushes.get(data.push_id);
  picker.pushes.set(data.push_id, { ...push, state: data.state, bytes_done: data.bytes_done,
    bytes_total: data.bytes_total, detail: data.detail, updated_at: data.updated_at || push.updated_at });
  renderPushes();
}

/** Follow the relay's stream until every push is final or the window closes; reconnects itself. */
function openStream() {
  if (picker.stream) return;
  const controller = new AbortController();
  picker.stream = controller;
  (async () => {
    while (!controller.signal.aborted) {
      try {
        picker.lastEventId = await picker.relay.stream({
          signal: controller.signal,
          lastEventId: picker.lastEventId,
          onOpen: () => { $("live").textContent = t("live"); },
          onEvent: (name, data) => onStreamEvent(name, data),
        });
      } catch (exc) {
        $("live").textContent = exc instanceof RelayError ? t("reconnectingBecause", [exc.message]) : t("reconnecting");
      }
      if (controller.signal.aborted) break;
      await new Promise((resolve) => setTimeout(resolve, STREAM_RETRY_MS));
      for (const id of picker.pushes.keys()) refreshPush(id); // anything missed while away
    }
  })();
}

function closeStream() {
  if (picker.stream) picker.stream.abort();
  picker.stream = null;
}

// ------------------------------------------------------------------ start

function renderWho() {
  const who = $("who");
  who.replaceChildren();
  if (!picker.session) return;
  const out = el("button", { type: "button", class: "link" }, t("signOut"));
  out.onclick = () => { location.href = `signin.html?back=${encodeURIComponent(location.href)}&signout=1`; };
  who.append(t("whoOn", [picker.session.username, hostOf(picker.session.relayUrl)]), out);
}

async function main() {
  fillPage();
  $("retry").onclick = () => loadDevices();
  $("signin").onclick = () => { location.href = `signin.html?back=${encodeURIComponent(location.href)}`; };
  $("install").onclick = () => send(PushMode.INSTALL_NOW);
  $("notify").onclick = () => send(PushMode.NOTIFY);
  window.addEventListener("keydown", (event) => { if (event.key === "Escape" && !picker.sending) window.close(); });
  window.addEventListener("pagehide", closeStream);

  const requestId = new URLSearchParams(location.search).get("request");
  const key = `request:${requestId}`;
  picker.request = (await chrome.storage.session.get(key))[key] || null;
  if (!picker.request) {
    setProblem(t("nothingToSendAnyMore"));
    return;
  }
  if (picker.request.problem) {
    $("app-name").textContent = t("nothingToSend");
    setProblem(picker.request.problem);
    return;
  }
  renderApp(picker.request.info, picker.request.link);
  if (!picker.request.info.packages.length) {
    setProblem(t("notAPackage"));
    return;
  }
  picker.session = await loadSession();
  if (!picker.session) {
    setProblem(t("signInToSend"), { signIn: true });
    return;
  }
  picker.relay = new Relay(picker.session.relayUrl, picker.session.token);
  renderWho();
  await loadDevices();
}

main();
