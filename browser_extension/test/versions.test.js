// Version comparison: the cases of shared/versions.py.
import "./locale_stub.js";
import assert from "node:assert/strict";
import { test } from "node:test";

import { compareVersions, installedNote, isSameOrNewer } from "../src/versions.js";

test("versions compare as people expect", () => {
  assert.equal(compareVersions("3.10", "3.9"), 1);
  assert.equal(compareVersions("2.0rc1", "2.0"), -1);
  assert.equal(compareVersions("2.0.1", "2.0rc1"), 1);
  assert.equal(compareVersions("1.0.0", "1.0"), 0);
  assert.equal(compareVersions("1.0.1", "1.0"), 1);
  assert.equal(compareVersions("1.0beta", "1.0"), -1);
  assert.equal(compareVersions("1.2", "1.2"), 0);
});

test("version codes win; with nothing to compare, any copy counts", () => {
  assert.equal(isSameOrNewer("9.0", 5, "1.0", 6), false);
  assert.equal(isSameOrNewer("1.0", null, null, null), true);
  assert.equal(isSameOrNewer(null, null, "1.0", null), false);
});

test("what the picker says a device has", () => {
  assert.deepEqual(installedNote({ version: "3.6", version_code: null }, { version: "3.6" }), ["Installed", true]);
  assert.deepEqual(installedNote({ version: "3.5" }, { version: "3.6" }), ["Update from 3.5 to 3.6", false]);
  assert.deepEqual(installedNote({ version: "4.0" }, { version: "3.6" }), ["Has a newer version (4.0)", true]);
  assert.equal(installedNote(null, { version: "3.6" }), null);
});
