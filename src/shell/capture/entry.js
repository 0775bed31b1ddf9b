// Content-script entry, bundled by `cargo xtask build` with the wasm2js-lowered capture crate
// into extension/gen/capture.js. It only guards against a second copy in the same document and
// calls into Rust; all recording logic is in src/shell/capture.
import { capture_main } from "./tabreel.js";

if (!globalThis.__tabreelCaptureActive) {
  globalThis.__tabreelCaptureActive = true;
  capture_main();
}
