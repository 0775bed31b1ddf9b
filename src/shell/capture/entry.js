// Content-script entry, bundled by `cargo xtask build` with the wasm2js-lowered capture crate
// into extension/gen/capture.js. A document runs at most one capture: a second injection asks the
// running one to reconnect (Rust removes the global when it stops). All logic is in Rust.
import { capture_main, capture_reconnect } from "./tabreel.js";

if (globalThis.__tabreelCapture) {
  globalThis.__tabreelCapture.reconnect();
} else {
  globalThis.__tabreelCapture = { reconnect: capture_reconnect, engine: "wasm2js" };
  capture_main();
}
