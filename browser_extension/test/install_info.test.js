// Install information from a page's JSON-LD (the relay's store pages) or from the link alone.
import assert from "node:assert/strict";
import { test } from "node:test";

import { appIdFromFileName, findAppObject, infoForPage, parseFileSize, pyStrip, resolveInstallInfo } from "../src/install_info.js";

const SHA = "a".repeat(64);
const STORE = "http://127.0.0.1:8765/";
const VLC = {
  "@context": "https://schema.org", "@type": "SoftwareApplication",
  identifier: "org.videolan.vlc", name: "VLC", softwareVersion: "3.6.0",
  operatingSystem: "Android 5.0+, iOS 12+", image: "/static/icons/org.videolan.vlc.png",
  description: "A media player", fileSize: "41234567",
  downloadUrl: ["/files/" + SHA + "/org.videolan.vlc-3.6.0.apk", "/files/" + "b".repeat(64) + "/vlc.ipa"],
  "appbeam:versionCode": 13060000,
  "appbeam:packages": [{ format: "apk", url: "/files/" + SHA + "/org.videolan.vlc-3.6.0.apk", sha256: SHA, size: 41234567 }],
};
const OTHER = { "@type": "MobileApplication", identifier: "org.other", name: "Other", downloadUrl: "http://cdn.example/other.apk" };
const PAGE = [JSON.stringify(OTHER), "{not json", JSON.stringify({ "@graph": [VLC] })];

test("the clicked link's app is found in the page's JSON-LD, with hash, size and icon", () => {
  const link = { url: STORE + "files/" + SHA + "/org.videolan.vlc-3.6.0.apk", pageUrl: STORE, filename: "", mime: "" };
  const { info, fromPage } = resolveInstallInfo(link, PAGE);
  assert.equal(fromPage, true);
  assert.equal(info.id, "org.videolan.vlc");
  assert.equal(info.name, "VLC");
  assert.equal(info.version, "3.6.0");
  assert.equal(info.version_code, 13060000);
  assert.equal(info.size, 41234567);
  assert.equal(info.runtime, "Android 5.0+, iOS 12+");
  assert.equal(info.icon_url, STORE + "static/icons/org.videolan.vlc.png");
  assert.deepEqual(info.packages.map((p) => [p.format, p.sha256]), [["apk", SHA], ["ipa", null]]);
  assert.equal(info.packages[0].url, link.url);
});

test("another host name for the same path still finds the app; a stranger's link does not", () => {
  assert.equal(findAppObject(PAGE.map((t) => { try { return JSON.parse(t); } catch { return null; } }),
    "http://localhost:8765/files/" + SHA + "/org.videolan.vlc-3.6.0.apk", STORE).identifier, "org.videolan.vlc");
  const { info, fromPage } = resolveInstallInfo({ url: "http://elsewhere.example/dl/Firefox-128.0.apk", pageUrl: STORE }, PAGE);
  assert.equal(fromPage, false);
  assert.equal(info.id, "Firefox");
  assert.equal(info.version, "128.0");
  assert.deepEqual(info.packages, [{ format: "apk", url: "http://elsewhere.example/dl/Firefox-128.0.apk", sha256: null, size: null }]);
});

test("without JSON-LD the link and the download's own name and size are used", () => {
  const { info } = resolveInstallInfo({ url: "http://x.example/get?id=7", filename: "/home/a/Downloads/org.example.app-2.1.apk",
    mime: "application/vnd.android.package-archive", totalBytes: 1234 }, []);
  assert.equal(info.id, "org.example.app");
  assert.equal(info.version, "2.1");
  assert.equal(info.size, 1234);
  assert.equal(info.packages[0].format, "apk");
});

test("the toolbar button takes the page's first app", () => {
  assert.equal(infoForPage(PAGE, STORE).id, "org.other");
  assert.equal(infoForPage(["{}"], STORE), null);
});

test("file sizes as pages write them", () => {
  assert.equal(parseFileSize("41234567"), 41234567);
  assert.equal(parseFileSize("41 MB"), 41000000);
  assert.equal(parseFileSize("3.5MiB"), 3670016);
  assert.equal(parseFileSize("big"), null);
  assert.deepEqual(appIdFromFileName("org.videolan.vlc-3.6.0.apk"), ["org.videolan.vlc", "3.6.0"]);
});

test("texts are stripped the way the relay (Python's str.strip) strips them", () => {
  assert.equal(pyStrip("\x1c 3.6.0\x85\u2003"), "3.6.0");
  assert.equal(pyStrip("\ufeff3.6"), "\ufeff3.6"); // Python keeps the BOM; JavaScript's trim() would not
});

test("a long description is cut on whole characters, never inside an emoji", () => {
  const obj = { ...VLC, description: "x".repeat(1998) + "😀😀😀" };
  const link = { url: STORE + "files/" + SHA + "/org.videolan.vlc-3.6.0.apk", pageUrl: STORE, filename: "", mime: "" };
  const { info, fromPage } = resolveInstallInfo(link, [JSON.stringify(obj)]);
  assert.equal(fromPage, true);
  assert.ok(!/[\ud800-\udbff]$/.test(info.description.slice(0, -1)), "no lone high surrogate before the ellipsis");
  assert.equal(Array.from(info.description).length, 2000);
});

test("a file name that is not valid percent-encoding is kept as it is", () => {
  const link = { url: "http://downloads.example/caf%E9-1.2.apk", filename: "", mime: "" };
  assert.doesNotThrow(() => resolveInstallInfo(link, []));
  const bare = { url: "http://downloads.example/app-100%.apk", filename: "", mime: "" };
  assert.doesNotThrow(() => resolveInstallInfo(bare, []));
});
