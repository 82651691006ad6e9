// The part of Appbeam's wire protocol the extension needs, copied from shared/protocol.py.
//
// One file on purpose: tests/extension/test_protocol_constants.py reads these values with node and
// compares them with the Python ones, so a format or state added there and forgotten here fails a
// test instead of a push.

export const API_PREFIX = "/api/v1";

/** What the target device does when a push arrives. */
export const PushMode = Object.freeze({
  INSTALL_NOW: "install_now", // download and install at once (own devices only)
  NOTIFY: "notify", // show a notice; the phone's user installs when they choose
});

/** Where one push to one device stands, and how a person reads it (shared/protocol.py _LABELS). */
export const STATE_LABELS = Object.freeze({
  queued: "Queued (device offline)",
  sent: "Sent",
  delivered: "Delivered",
  waiting_for_wifi: "Waiting for Wi-Fi",
  downloading: "Downloading",
  paused: "Paused",
  verifying: "Verifying",
  installing: "Installing",
  installed: "Installed",
  already_installed: "Already installed",
  declined: "Declined",
  failed: "Failed",
  cancelled: "Cancelled",
  expired: "Expired",
});

/** States after which nothing more happens to a push... */
export const FINAL_STATES = Object.freeze(["installed", "already_installed", "declined", "cancelled", "expired"]);

/** ...except that its phone may re-open a push in one of these (Download again after a decline). */
export const REOPENABLE_STATES = Object.freeze(["declined"]);

/** Why a phone holds a push though nobody paused it: the detail of a "paused" report. */
export const SITUATION_LABELS = Object.freeze({
  "asking about mobile data": "Asking about mobile data",
  "waiting for the relay": "Waiting for the relay",
  "waiting for the download server": "Waiting for the download server",
  "no connection": "No connection",
});

/** Names of the Server-Sent Events on GET /api/v1/stream. */
export const StreamEvent = Object.freeze({
  PUSH: "push",
  PUSH_UPDATE: "push_update",
  PUSH_CANCELLED: "push_cancelled",
  DEVICE_KEY: "device_key",
});

/** This extension's platform as a device of the account. */
export const BROWSER_PLATFORM = "browser";

/** Package formats each platform installs, best first. */
export const PLATFORM_FORMATS = Object.freeze({
  android: ["apk"],
  ios: ["ipa", "pxl", "deb"],
  symbian: ["sisx", "sis"],
  windows_phone: ["xap"],
  linux: ["appimage", "deb", "flatpak"],
  windows: ["msix", "exe", "msi"],
  macos: ["dmg", "pkg"],
  browser: [],
});

export const PLATFORM_LABELS = Object.freeze({
  android: "Android",
  ios: "iOS",
  symbian: "Symbian",
  windows_phone: "Windows Phone",
  linux: "Linux",
  windows: "Windows",
  macos: "macOS",
  browser: "Browser",
});

/** Every package format the product knows, with its MIME type: the downloads the extension takes over. */
export const FORMAT_MIME_TYPES = Object.freeze({
  apk: "application/vnd.android.package-archive",
  ipa: "application/octet-stream",
  pxl: "application/octet-stream",
  deb: "application/vnd.debian.binary-package",
  sis: "application/vnd.symbian.install",
  sisx: "x-epoc/x-sisx-app",
  xap: "application/x-silverlight-app",
  appimage: "application/vnd.appimage",
  flatpak: "application/vnd.flatpak",
  msix: "application/msix",
  exe: "application/vnd.microsoft.portable-executable",
  msi: "application/x-msi",
  dmg: "application/x-apple-diskimage",
  pkg: "application/octet-stream",
});

/** Bound into every push signature (shared/signing.py CONTEXT). */
export const SIGNING_CONTEXT = "appbeam-push-v1";
