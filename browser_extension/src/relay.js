// The relay API as the extension uses it: fetch() with the device's bearer token, and every
// failure turned into a sentence a person can act on (as shared/explain.py does for the desktop).
//
// No CORS is needed: the manifest's host permissions let extension pages and the service worker
// fetch any origin (docs/extension.md, "Relay needs").

import { API_PREFIX } from "./protocol.js";
import { t, uiLanguage } from "./i18n.js";

/** The relay's error codes the extension words itself (_locales err_<code>); the relay's own
 * message is used for the others. */
const CODES = new Set([
  "bad_credentials", "unauthorized", "too_many_requests", "busy", "storage_full", "storage_unavailable",
  "not_associated", "not_entitled", "device_id_unavailable", "unknown_code", "code_used", "code_expired",
]);

const codeMessage = (code) => (CODES.has(code) ? t(`err_${code}`) : "");

export class RelayError extends Error {
  constructor(message, { status = 0, code = "" } = {}) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** "relay.example:8765" from "http://relay.example:8765/": the part a person recognises. */
export function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** A relay address as typed ("relay.example:8765") made into an origin URL, or null if it is none. */
export function normalRelayUrl(typed) {
  let text = String(typed || "").trim();
  if (!text) return null;
  if (!/^https?:\/\//i.test(text)) text = `http://${text}`;
  try {
    const url = new URL(text);
    return url.origin + url.pathname.replace(/\/+$/, "");
  } catch {
    return null;
  }
}

export class Relay {
  constructor(baseUrl, token = null) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
  }

  headers(extra = {}) {
    // The relay's sentences in the language of the extension's own words (not the browser's
    // content-language list, which can differ from its UI language).
    const headers = { Accept: "application/json", "Accept-Language": uiLanguage(), ...extra };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  }

  /** One API call; the JSON answer, or a RelayError whose message is a sentence. */
  async request(method, path, body = undefined) {
    const init = { method, headers: this.headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    let response;
    try {
      response = await fetch(this.baseUrl + API_PREFIX + path, init);
    } catch {
      throw new RelayError(t("cantReachRelay", [hostOf(this.baseUrl)]));
    }
    if (response.status === 204) return null;
    let data = null;
    try {
      data = await response.json();
    } catch {
      // not JSON: a proxy's error page, or not a relay at all
    }
    if (response.ok && data !== null) return data;
    const error = (data && data.error) || {};
    const code = error.code || "";
    let message = codeMessage(code) || error.message;
    if (!message) {
      message = response.ok || response.status === 404
        ? t("notARelay", [hostOf(this.baseUrl)])
        : t("relayAnswered", [hostOf(this.baseUrl), response.status]);
    } else if (!CODES.has(code)) {
      message = message[0].toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? "" : ".");
    }
    throw new RelayError(message, { status: response.status, code });
  }

  login(username, password, device) {
    return this.request("POST", "/login", { username, password, device });
  }

  claimPairing(code, device) {
    return this.request("POST", "/pairings/claim", { code, device });
  }

  me() {
    return this.request("GET", "/me");
  }

  registerKey(publicKey) {
    return this.request("PUT", "/me/key", { public_key: publicKey });
  }

  logout() {
    return this.request("POST", "/logout");
  }

  /** The account's and friends' devices, each saying whether it installs one of `formats`. */
  async devices(formats = [], appId = null) {
    const query = new URLSearchParams();
    for (const f of formats) query.append("format", f);
    if (appId) query.set("app_id", appId);
    const text = query.toString();
    return (await this.request("GET", `/devices${text ? `?${text}` : ""}`)).devices;
  }

  async push(app, mode, deviceIds, signatures) {
    return (await this.request("POST", "/pushes", { app, mode, device_ids: deviceIds, signatures })).pushes;
  }

  pushById(pushId) {
    return this.request("GET", `/pushes/${encodeURIComponent(pushId)}`);
  }

  /**
   * Follow this device's event stream: `onEvent(name, data)` for each event; resolves when `signal`
   * aborts, rejects with a RelayError when the stream cannot be opened or breaks. fetch() streaming
   * rather than EventSource, which cannot send the Authorization header.
   */
  async stream({ onEvent, onOpen = () => {}, signal, lastEventId = null }) {
    const headers = this.headers({ Accept: "text/event-stream" });
    if (lastEventId !== null) headers["Last-Event-ID"] = String(lastEventId);
    let response;
    try {
      response = await fetch(this.baseUrl + API_PREFIX + "/stream", { headers, signal });
    } catch (exc) {
      if (signal && signal.aborted) return lastEventId;
      throw new RelayError(t("cantReachRelay", [hostOf(this.baseUrl)]));
    }
    if (!response.ok) {
      throw new RelayError(response.status === 401 ? codeMessage("unauthorized") : t("streamAnswered", [response.status]),
        { status: response.status });
    }
    onOpen();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser((event) => {
      if (event.id !== null) lastEventId = event.id;
      let data = null;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      onEvent(event.name, data);
    });
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
    } catch {
      if (signal && signal.aborted) return lastEventId;
      throw new RelayError(t("connectionBroke", [hostOf(this.baseUrl)]));
    }
    if (signal && signal.aborted) return lastEventId;
    throw new RelayError(t("streamClosed", [hostOf(this.baseUrl)]));
  }
}

/** Server-Sent Events, line by line: calls `emit({name, data, id})` for every complete event. */
export class SseParser {
  constructor(emit) {
    this.emit = emit;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.name = "message";
    this.data = [];
    this.id = null;
  }

  feed(chunk) {
    this.buffer += chunk;
    let end;
    while ((end = this.buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (this.buffer.startsWith("\r\n", end) ? 2 : 1));
      this.line(line);
    }
  }

  line(line) {
    if (line === "") {
      if (this.data.length) this.emit({ name: this.name, data: this.data.join("\n"), id: this.id });
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment: the keepalive
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") this.name = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id") this.id = value;
  }
}
