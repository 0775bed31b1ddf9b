// Injected by the service worker before it starts recording a document that is already open: its
// value (the script's last expression) is the verdict the loader kept for this document, whether
// its CSP lets the recorder run as real wasm (src/shell/capture_build.rs).
globalThis.__tabreelWasm === true;
