// This browser's signing key, kept in IndexedDB as a CryptoKey pair.
//
// The private key is made non-extractable: the browser can sign with it but no script, not even this
// extension's, can read it out. IndexedDB stores the CryptoKey objects themselves (structured clone),
// so nothing secret ever passes through chrome.storage or JSON.

import { generateKeyPair, publicKeyBase64 } from "./signing.js";

const DB_NAME = "appbeam";
const STORE = "keys";
const DEVICE_KEY = "device";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore(mode, action) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The key pair, made (and stored) on first use: {privateKey, publicKey, publicKeyBase64}. */
export async function deviceKey() {
  let pair = await withStore("readonly", (store) => store.get(DEVICE_KEY));
  if (!pair) {
    const fresh = await generateKeyPair();
    pair = { privateKey: fresh.privateKey, publicKey: fresh.publicKey };
    await withStore("readwrite", (store) => store.put(pair, DEVICE_KEY));
  }
  return { ...pair, publicKeyBase64: await publicKeyBase64(pair.publicKey) };
}
