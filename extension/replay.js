// Replay page loader: initialises the wasm engine and hands over to Rust (src/shell/player.rs).
import init, { player_main } from "./gen/engine/tabreel.js";

await init({ module_or_path: new URL("./gen/engine/tabreel_bg.wasm", import.meta.url) });
player_main();
