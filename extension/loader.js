// The only script every page gets (every frame too, about:blank and srcdoc ones included): at
// document_start it tells the service worker that a new document started in this tab. If the tab
// is being recorded, the worker injects the recorder (gen/capture.js) into exactly this document;
// otherwise nothing else happens, so tabs that are not recorded pay for one message per document
// and nothing more.
chrome.runtime.sendMessage({ cmd: "pageStart" }).catch(() => {});
