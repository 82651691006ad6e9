// The format table and state labels: the same answers as shared/protocol.py gives.
import "./locale_stub.js";
import assert from "node:assert/strict";
import { test } from "node:test";

import { chooseFormat, downloadFormat, formatFromFilename, formatFromMime, humanSize, percentOf, stateLabel } from "../src/formats.js";

test("a file name or URL names its package format", () => {
  assert.equal(formatFromFilename("org.videolan.vlc-3.6.0.apk"), "apk");
  assert.equal(formatFromFilename("http://relay:8765/files/abc/App.IPA?x=1"), "ipa");
  assert.equal(formatFromFilename("Tool.AppImage"), "appimage");
  assert.equal(formatFromFilename("notes.txt"), null);
  assert.equal(formatFromFilename("http://example.com/apk"), null);
  assert.equal(formatFromFilename(""), null);
});

test("only specific MIME types name a format", () => {
  assert.equal(formatFromMime("application/vnd.android.package-archive; charset=binary"), "apk");
  assert.equal(formatFromMime("application/octet-stream"), null);
  assert.equal(formatFromMime("text/html"), null);
});

test("a download's format: MIME type first, then its file name, then its URL", () => {
  assert.equal(downloadFormat({ mime: "application/vnd.android.package-archive", url: "http://x/download?id=3" }), "apk");
  assert.equal(downloadFormat({ mime: "application/octet-stream", url: "http://x/f/app.ipa" }), "ipa");
  assert.equal(downloadFormat({ mime: "text/html", url: "http://x/page.html" }), null);
});

test("each platform gets its best offered format; a browser gets none", () => {
  assert.equal(chooseFormat("ios", ["deb", "ipa"]), "ipa");
  assert.equal(chooseFormat("android", ["ipa"]), null);
  assert.equal(chooseFormat("browser", ["apk"]), null);
  assert.equal(chooseFormat("plan9", ["apk"]), null);
});

test("states read as the desktop shows them", () => {
  assert.equal(stateLabel("downloading", 42), "Downloading 42%");
  assert.equal(stateLabel("paused", null, "waiting for the relay"), "Waiting for the relay");
  assert.equal(stateLabel("failed", null, "no space"), "Failed: no space");
  assert.equal(stateLabel("installed"), "Installed");
  assert.equal(percentOf({ bytes_done: 50, bytes_total: 200 }), 25);
  assert.equal(percentOf({ bytes_done: null, bytes_total: 200 }), null);
});

test("sizes read as shared/formatting.py writes them", () => {
  assert.equal(humanSize(999), "999 B");
  assert.equal(humanSize(41234567), "41.2 MB");
  assert.equal(humanSize(123456789), "123 MB");
  assert.equal(humanSize(null), "");
});
