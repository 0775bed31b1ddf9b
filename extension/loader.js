// The only script every page gets (every frame too, about:blank and srcdoc ones included): at
// document_start it tells the service worker that a new document started in this tab. If the tab
// is being recorded, the worker injects the recorder (gen/capture.js) into exactly this document;
// otherwise nothing else happens, so tabs that are not recorded pay for one message per document
// and nothing more. The answer says whether this document's CSP lets the recorder run as real
// wasm; it is kept in this isolated world (the page cannot see it) for a recording started later
// (the worker reads it back with capture-probe.js).
chrome.runtime.sendMessage({ cmd: "pageStart" }).then((r) => {
  globalThis.__tabreelWasm = r?.wasm === true;
}, () => {});
