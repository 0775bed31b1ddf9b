// Popup loader: initialises the wasm engine and hands over to Rust (src/shell/popup.rs).
import init, { popup_main } from "../engine/tabreel.js";

await init({ module_or_path: new URL("../engine/tabreel_bg.wasm", import.meta.url) });
popup_main();
