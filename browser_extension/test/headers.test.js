// A bare link's HTTP answer: its MIME type, file name and size.
import assert from "node:assert/strict";
import { test } from "node:test";

import { filenameFromDisposition, linkFacts } from "../src/headers.js";
import { resolveInstallInfo } from "../src/install_info.js";

test("file names from Content-Disposition", () => {
  assert.equal(filenameFromDisposition('attachment; filename="org.example.app-2.1.apk"'), "org.example.app-2.1.apk");
  assert.equal(filenameFromDisposition("attachment; filename*=UTF-8''caf%C3%A9-1.0.apk; filename=cafe.apk"), "café-1.0.apk");
  assert.equal(filenameFromDisposition("attachment; filename=../../evil.apk"), "evil.apk");
  assert.equal(filenameFromDisposition("inline"), "");
  assert.equal(filenameFromDisposition(null), "");
});

test("a link that names no format is a package when its answer says so", () => {
  const headers = new Headers({ "Content-Type": "application/vnd.android.package-archive", "Content-Length": "4096",
    "Content-Disposition": 'attachment; filename="org.example.app-2.1.apk"' });
  const { info } = resolveInstallInfo({ url: "https://dl.example/get?id=7", ...linkFacts({ headers }) }, []);
  assert.equal(info.id, "org.example.app");
  assert.equal(info.version, "2.1");
  assert.equal(info.size, 4096);
  assert.deepEqual(info.packages.map((p) => p.format), ["apk"]);
});

test("a redirect names the file the link stands for", () => {
  const response = { headers: new Headers({ "Content-Type": "application/octet-stream" }), redirected: true,
    url: "https://cdn.example/files/abc/org.example.app-2.1.ipa" };
  const facts = linkFacts(response);
  assert.equal(facts.filename, "org.example.app-2.1.ipa");
  assert.equal(facts.finalUrl, response.url);
  assert.equal(facts.totalBytes, null);
});
