// Service worker glue. MV3 requires listeners to be registered synchronously at start-up, before
// the wasm engine is ready; each listener waits for the engine and hands the call to Rust
// (src/shell/worker.rs). No logic lives here.
import init, {
  handle_message,
  handle_port_message,
  handle_port_disconnect,
  handle_tab_removed,
  handle_browser_startup,
  handle_headers_received,
} from "./gen/engine/tabreel.js";

const ready = init({ module_or_path: new URL("./gen/engine/tabreel_bg.wasm", import.meta.url) });

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  ready
    .then(() => handle_message(message, sender))
    .then(sendResponse, (e) => sendResponse({ ok: false, error: String(e?.message ?? e) }));
  return true; // the answer is asynchronous
});

chrome.runtime.onConnect.addListener((port) => {
  if (port.name !== "capture") return port.disconnect();
  port.onMessage.addListener((message) => {
    ready.then(() => handle_port_message(port, message)).catch((e) => console.error("tabreel", e));
  });
  port.onDisconnect.addListener(() => {
    ready.then(() => handle_port_disconnect(port));
  });
});

chrome.tabs.onRemoved.addListener((tabId) => {
  ready.then(() => handle_tab_removed(tabId));
});

chrome.runtime.onStartup.addListener(() => {
  ready.then(() => handle_browser_startup());
});

// Documents' response headers, only read: whether their CSP lets the capture run as real wasm.
chrome.webRequest.onHeadersReceived.addListener(
  (details) => {
    ready.then(() => handle_headers_received(details));
  },
  { urls: ["<all_urls>"], types: ["main_frame", "sub_frame"] },
  ["responseHeaders"],
);
