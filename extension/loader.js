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
// Until a scroll event reaches an element, no element of this document has been scrolled (the
// document's own scroll is read anyway), so a recorder started later need not read every
// element's scroll offset, a layout check each (src/shell/capture/mod.rs). The listener goes at
// the first such event; until then it costs a page one call per scroll of the document itself.
{
  globalThis.__tabreelWatching = true;
  const scrolled = (e) => {
    if (e.target === document) return;
    globalThis.__tabreelScrolled = true;
    document.removeEventListener("scroll", scrolled, true);
  };
  document.addEventListener("scroll", scrolled, { capture: true, passive: true });
}
