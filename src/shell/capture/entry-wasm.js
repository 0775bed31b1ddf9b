// Content-script entry of the capture as real WebAssembly, bundled by `cargo xtask build` into
// extension/gen/capture-wasm.js. The service worker injects it instead of gen/capture.js (the same
// Rust, lowered to JS by wasm2js) only into documents whose response headers' CSP lets a content
// script compile wasm (src/core/csp.rs). A `<meta>` policy parsed since then could forbid it, and
// a refused compilation is visible to the page, so with any such `<meta>` this asks the worker for
// the wasm2js build instead of trying. All logic is in Rust.
import { initSync, capture_main, capture_reconnect } from "./web/tabreel.js";
import wasmBase64 from "./web/bytes.js";

if (globalThis.__tabreelCapture) {
  globalThis.__tabreelCapture.reconnect();
} else if (document.querySelector('meta[http-equiv="content-security-policy" i]')) {
  chrome.runtime.sendMessage({ cmd: "captureFallback" }).catch(() => {});
} else {
  // Decoded natively where the browser can (Chrome 140+); the loop is the fallback.
  let bytes = Uint8Array.fromBase64?.(wasmBase64);
  if (!bytes) {
    const text = atob(wasmBase64);
    bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  }
  let compiled = null;
  try {
    compiled = new WebAssembly.Module(bytes);
  } catch {
    // A policy the worker did not see (it decides from the headers it was shown).
    chrome.runtime.sendMessage({ cmd: "captureFallback" }).catch(() => {});
  }
  if (compiled) {
    initSync({ module: compiled });
    globalThis.__tabreelCapture = { reconnect: capture_reconnect, engine: "wasm" };
    capture_main();
  }
}
