// The sign-in page (also the extension's options page): pair with a one-time code or log in, then
// go back to the picker that sent us here (?back=...), or stay and say who is signed in.

import { logIn, pairWithCode, signOut } from "./src/account.js";
import { RelayError, normalRelayUrl } from "./src/relay.js";
import { loadSession } from "./src/session.js";
import { fillPage, t } from "./src/i18n.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

function way() {
  return document.querySelector('input[name="way"]:checked').value;
}

function showWay() {
  $("way-code").hidden = way() !== "code";
  $("way-password").hidden = way() !== "password";
}

function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

/**
 * Host permission for the relay's origin (Firefox grants host permissions only when asked). Asked
 * first thing in the click's handler: browsers allow permissions.request only while handling the
 * user's click, which an earlier `await` would end. Already granted, it answers true at once.
 */
function allowRelay(url) {
  return chrome.permissions.request({ origins: [`${new URL(url).origin}/*`] });
}

async function submit(event) {
  event.preventDefault();
  showError("");
  const url = normalRelayUrl($("relay").value);
  if (!url) {
    showError(t("typeRelayAddress"));
    return;
  }
  $("submit").disabled = true;
  $("submit").textContent = t("signingIn");
  try {
    if (!(await allowRelay(url))) throw new RelayError(t("needPermission"));
    const session = way() === "code"
      ? await pairWithCode(url, $("code").value)
      : await logIn(url, $("username").value, $("password").value);
    $("code").value = "";
    $("password").value = "";
    const back = params.get("back");
    if (back && back.startsWith(chrome.runtime.getURL(""))) {
      location.href = back;
      return;
    }
    await showSignedIn(session);
  } catch (exc) {
    showError(exc instanceof RelayError ? exc.message : t("signInFailed"));
    console.info("sign-in failed", exc);
  } finally {
    $("submit").disabled = false;
    $("submit").textContent = t("signIn");
  }
}

async function showSignedIn(session) {
  const line = $("signed-in");
  line.hidden = !session;
  if (session) {
    const said = [t("signedInAs", [session.username, new URL(session.relayUrl).host, session.deviceName])];
    if (session.pairedBy) said.push(t("pairedBy", [session.pairedBy.name]));
    line.textContent = `${said.join(" ")} `;
    const out = document.createElement("button");
    out.type = "button";
    out.className = "link";
    out.textContent = t("signOut");
    out.onclick = async () => {
      await signOut();
      await showSignedIn(null);
    };
    line.append(out);
    $("relay").value = session.relayUrl;
  }
}

async function main() {
  fillPage();
  for (const radio of document.querySelectorAll('input[name="way"]')) radio.addEventListener("change", showWay);
  $("form").addEventListener("submit", submit);
  if (params.get("signout")) await signOut();
  const session = await loadSession();
  await showSignedIn(session);
  if (params.get("relay")) $("relay").value = params.get("relay");
  showWay();
}

main();
