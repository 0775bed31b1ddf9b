//! The build pipelines and the run/test commands.
//!
//! Two outputs under `extension/gen/` (git-ignored):
//! - `engine/`: the crate with the `engine` feature as real wasm (wasm-pack, `--target web`), for
//!   the service worker, the popup and the player; then npm binaryen's `wasm-opt -Oz`.
//! - `capture.js`: the crate with the `capture` feature, built for the MVP wasm feature set,
//!   lowered (`wasm-opt`), bound (`wasm-bindgen --target bundler`), turned into JS by `wasm2js`
//!   and bundled into one classic script by esbuild. Content scripts cannot compile wasm on pages
//!   whose CSP lacks `wasm-unsafe-eval`, and trying is visible to the page; JS runs everywhere.
//! - `capture-wasm.js`: the same capture wasm, bound with `--target web`, optimised, and embedded
//!   (base64) with a loader in one classic script that compiles it synchronously. The worker
//!   injects it instead of `capture.js` into documents whose CSP allows wasm (src/core/csp.rs).
//!
//! The popup's static files are copied from `popup/` to `extension/gen/popup/`.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::tools::{self, run, tool};
use crate::{root, step};

const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Files whose change means the extension must be rebuilt.
const INPUTS: &[&str] = &["src", "popup", "Cargo.toml", "Cargo.lock", "xtask/src"];
/// What the build produces.
const OUTPUTS: &[&str] = &[
    "extension/gen/engine/tabreel_bg.wasm",
    "extension/gen/engine/tabreel.js",
    "extension/gen/capture.js",
    "extension/gen/capture-wasm.js",
];

/// `cargo xtask build`: rebuilds only when a source is newer than the outputs.
pub fn build() -> Result<(), String> {
    tools::ensure_build_tools()?;
    let started = Instant::now();
    let newest_input = INPUTS.iter().filter_map(|p| newest(&root().join(p))).max();
    let oldest_output = OUTPUTS.iter().map(|p| fs::metadata(root().join(p)).and_then(|m| m.modified()).ok()).collect::<Option<Vec<_>>>().and_then(|v| v.into_iter().min());
    // A build of another kind (TABREEL_UNMINIFIED) is not up to date whatever the times say.
    let kind = format!("unminified={}\n", std::env::var_os("TABREEL_UNMINIFIED").is_some());
    let kind_file = root().join("target/extension-build-kind");
    let same_kind = fs::read_to_string(&kind_file).is_ok_and(|k| k == kind);
    if let (Some(input), Some(output), true) = (newest_input, oldest_output, same_kind) {
        if output >= input {
            copy_popup()?;
            step("extension is up to date (no source newer than extension/gen)");
            return Ok(());
        }
    }
    let _ = fs::remove_file(&kind_file);
    build_engine()?;
    build_capture()?;
    copy_popup()?;
    write(&kind_file, &kind)?;
    let size = |p: &str| fs::metadata(root().join(p)).map(|m| m.len()).unwrap_or(0);
    step(&format!(
        "extension ready in extension/ ({:.0}s): engine wasm {} KB, capture.js {} KB, capture-wasm.js {} KB",
        started.elapsed().as_secs_f64(),
        size("extension/gen/engine/tabreel_bg.wasm") / 1024,
        size("extension/gen/capture.js") / 1024,
        size("extension/gen/capture-wasm.js") / 1024
    ));
    Ok(())
}

fn build_engine() -> Result<(), String> {
    step("building the engine (service worker, popup, player) with wasm-pack");
    run(tool("wasm-pack").args([
        "build",
        "--target",
        "web",
        "--release",
        "--no-typescript",
        "--no-pack",
        "--out-dir",
        "extension/gen/engine",
        "--out-name",
        "tabreel",
        "--",
        "--features",
        "engine",
    ]))?;
    let wasm = root().join("extension/gen/engine/tabreel_bg.wasm");
    let _ = fs::remove_file(root().join("extension/gen/engine/.gitignore"));
    // wasm-opt -Oz takes most of a rebuild: a change to the capture alone leaves the engine's
    // wasm as it was, and its optimised form is taken from the last build.
    let optimised = root().join("target/engine-opt.wasm");
    let stamp = root().join("target/engine-opt.stamp");
    let key = format!("{:x}\n", content_hash(&[&wasm])?);
    if optimised.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == key) {
        step("the engine's wasm is unchanged: its optimised form is the last build's");
        fs::copy(&optimised, &wasm).map_err(|e| format!("copying {}: {e}", optimised.display()))?;
        return Ok(());
    }
    let mut opt = tool("wasm-opt");
    opt.arg(&wasm).args(WASM_FEATURES).args(["-Oz", "-o"]).arg(&wasm);
    run(&mut opt)?;
    fs::copy(&wasm, &optimised).map_err(|e| format!("copying {}: {e}", wasm.display()))?;
    write(&stamp, &key)
}

/// A hash of some files' contents (to tell whether a build step's inputs changed).
fn content_hash(files: &[&Path]) -> Result<u64, String> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        fs::read(f).map_err(|e| format!("reading {}: {e}", f.display()))?.hash(&mut hasher);
    }
    Ok(hasher.finish())
}

fn build_capture() -> Result<(), String> {
    step("building the capture content script (Rust -> wasm (MVP) -> wasm2js -> one classic script)");
    let target_dir = root().join("target/mvp");
    run(tool("cargo")
        .args(["build", "--lib", "--release", "--target", "wasm32-unknown-unknown", "--features", "capture", "--target-dir"])
        .arg(&target_dir)
        .env("RUSTFLAGS", "-Ctarget-cpu=mvp")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", std::env::var("TABREEL_CAPTURE_OPT").unwrap_or_else(|_| "3".into())))?;
    // TABREEL_UNMINIFIED=1 keeps function names (Rust's, through every step), for reading CPU
    // profiles of the capture.
    let minify = std::env::var_os("TABREEL_UNMINIFIED").is_none();
    // The rest (lowering, binding, wasm2js, bundling, optimising) is skipped when neither the
    // compiled crate nor the scripts around it changed (a change to the engine alone).
    let outputs = [root().join("extension/gen/capture.js"), root().join("extension/gen/capture-wasm.js")];
    let inputs = [
        target_dir.join("wasm32-unknown-unknown/release/tabreel.wasm"),
        root().join("src/shell/capture/entry.js"),
        root().join("src/shell/capture/entry-wasm.js"),
    ];
    let key = format!("{:x} minify={minify}\n", content_hash(&inputs.iter().map(|p| p.as_path()).collect::<Vec<_>>())?);
    let stamp = target_dir.join("capture-js.stamp");
    if outputs.iter().all(|p| p.exists()) && fs::read_to_string(&stamp).is_ok_and(|s| s == key) {
        step("the capture's wasm is unchanged: capture.js and capture-wasm.js are the last build's");
        return Ok(());
    }
    let _ = fs::remove_file(&stamp);
    let names: &[&str] = if minify { &[] } else { &["-g"] };
    let work = target_dir.join("capture-js");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let lowered = work.join("lowered.wasm");
    // The prebuilt std still uses memory.copy and friends: lower them to MVP instructions.
    let mut opt = tool("wasm-opt");
    opt.arg(target_dir.join("wasm32-unknown-unknown/release/tabreel.wasm"))
        .args(WASM_FEATURES)
        .args([
            "--llvm-memory-copy-fill-lowering",
            "--llvm-nontrapping-fptoint-lowering",
            "--signext-lowering",
            "--strip-target-features",
        ])
        .args(names)
        .arg("-o")
        .arg(&lowered);
    run(&mut opt)?;
    run(tool("wasm-bindgen")
        .arg(&lowered)
        .args(["--target", "bundler", "--out-name", "tabreel", "--no-typescript"])
        .args((!minify).then_some("--keep-debug"))
        .arg("--out-dir")
        .arg(&work))?;
    let glue = read(&work.join("tabreel_bg.js"))?;
    if glue.contains("BigInt") {
        return Err("the capture crate passes 64-bit integers to JS; wasm2js output cannot (keep u64/i64 out of its exports)".into());
    }
    let as_js = work.join("tabreel_bg.wasm.js");
    run(tool("wasm2js").arg(work.join("tabreel_bg.wasm")).args(["-O2"]).args(names).arg("-o").arg(&as_js))?;
    patch_memory_grow(&as_js)?;
    let entry_glue = read(&work.join("tabreel.js"))?.replace("\"./tabreel_bg.wasm\"", "\"./tabreel_bg.wasm.js\"");
    write(&work.join("tabreel.js"), &entry_glue)?;
    fs::copy(root().join("src/shell/capture/entry.js"), work.join("entry.js")).map_err(|e| format!("copying entry.js: {e}"))?;
    let out = root().join("extension/gen/capture.js");
    run(tool("esbuild")
        .arg(work.join("entry.js"))
        .args(["--bundle", "--format=iife", "--legal-comments=none", "--log-level=warning", "--target=chrome120"])
        .args(minify.then_some("--minify"))
        .arg(format!("--outfile={}", out.display())))?;
    build_capture_wasm(&lowered, &work, minify)?;
    write(&stamp, &key)
}

/// The capture as real wasm: the same compiled crate as `capture.js` (MVP, lowered: wasm-bindgen
/// only handles the crate's MVP build without its feature section), bound for `initSync`, its
/// bytes embedded in the script (a content script can only compile them synchronously if it
/// already has them).
fn build_capture_wasm(wasm: &Path, work: &Path, minify: bool) -> Result<(), String> {
    let web = work.join("web");
    run(tool("wasm-bindgen")
        .arg(wasm)
        .args(["--target", "web", "--out-name", "tabreel", "--no-typescript"])
        .args((!minify).then_some("--keep-debug"))
        .arg("--out-dir")
        .arg(&web))?;
    let bound = web.join("tabreel_bg.wasm");
    let mut opt = tool("wasm-opt");
    opt.arg(&bound).args(WASM_FEATURES).args(["-O3", "-o"]).arg(&bound);
    if !minify {
        opt.arg("-g");
    }
    run(&mut opt)?;
    let bytes = fs::read(&bound).map_err(|e| format!("reading {}: {e}", bound.display()))?;
    write(&web.join("bytes.js"), &format!("export default \"{}\";\n", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes)))?;
    fs::copy(root().join("src/shell/capture/entry-wasm.js"), work.join("entry-wasm.js")).map_err(|e| format!("copying entry-wasm.js: {e}"))?;
    let out = root().join("extension/gen/capture-wasm.js");
    run(tool("esbuild")
        .arg(work.join("entry-wasm.js"))
        // The glue's asynchronous `init` (never called) defaults to a URL from `import.meta`.
        .args(["--bundle", "--format=iife", "--legal-comments=none", "--log-level=warning", "--target=chrome120", "--define:import.meta.url=undefined"])
        .args(minify.then_some("--minify"))
        .arg(format!("--outfile={}", out.display())))?;
    Ok(())
}

/// wasm2js grows memory by copying into a new ArrayBuffer, leaving wasm-bindgen's cached views
/// on the old one (strings then silently read as empty). `ArrayBuffer.prototype.transfer` grows
/// in place and detaches the old buffer, which wasm-bindgen notices and re-reads.
fn patch_memory_grow(file: &Path) -> Result<(), String> {
    let text = read(file)?;
    let old = "var newBuffer = new ArrayBuffer(newPages << 16);\n   var newHEAP8 = new Int8Array(newBuffer);\n   newHEAP8.set(HEAP8);";
    if !text.contains(old) {
        return Err(format!(
            "{}: wasm2js's memory.grow no longer looks as expected; re-check the stale-view fix in xtask/src/build.rs",
            file.display()
        ));
    }
    write(file, &text.replace(old, "var newBuffer = buffer.transfer(newPages << 16);"))
}

fn copy_popup() -> Result<(), String> {
    let from = root().join("popup");
    let to = root().join("extension/gen/popup");
    fs::create_dir_all(&to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    for entry in fs::read_dir(&from).map_err(|e| format!("reading popup/: {e}"))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_file() {
            fs::copy(&path, to.join(path.file_name().unwrap())).map_err(|e| format!("copying {}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `cargo xtask run` (after the build): Chromium with the extension on the demo page.
pub fn open_demo() -> Result<(), String> {
    step("opening Chromium with the extension on the demo page (tests/e2e/open.mjs)");
    run_node(&["tests/e2e/open.mjs"])
}

/// `cargo xtask bench [args]` (after the build): `node bench/run.mjs`, arguments passed through.
pub fn bench(args: &[String]) -> Result<(), String> {
    step("benchmark: no recorder, rrweb and tabreel in headless Chromium (bench/run.mjs)");
    run(tool("node").arg("bench/run.mjs").args(args))
}

fn run_node(args: &[&str]) -> Result<(), String> {
    run(tool("node").args(args))
}

/// `cargo xtask test [--e2e-only|--no-e2e] [--fidelity-full]`: every test.
pub fn test(args: &[String]) -> Result<(), String> {
    let e2e_only = args.iter().any(|a| a == "--e2e-only");
    let no_e2e = args.iter().any(|a| a == "--no-e2e");
    if !e2e_only {
        step("host tests of the functional core (cargo test)");
        run(tool("cargo").args(["test", "--workspace"]))?;
    }
    tools::ensure_build_tools()?;
    tools::ensure_browser()?;
    if !e2e_only {
        step("wasm-bindgen tests of the web-sys shell in headless Chromium (wasm-pack test)");
        let mut cmd = tool("wasm-pack");
        cmd.args(["test", "--headless", "--chrome", "--", "--features", "capture,engine"])
            .env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
        run(&mut cmd)?;
    }
    if !no_e2e {
        build()?;
        step("end-to-end tests: the real extension in Chromium (node --test, playwright-core)");
        let mut files = e2e_files()?;
        // Fidelity suite (tests/fidelity): a fast subset, or every app with --fidelity-full.
        files.push("tests/fidelity/fidelity.test.mjs".into());
        let mut cmd: Command = tool("node");
        cmd.args(["--test", "--test-concurrency=1"]).args(&files);
        if args.iter().any(|a| a == "--fidelity-full") {
            cmd.env("TABREEL_FIDELITY", "full");
        }
        run(&mut cmd)?;
    }
    step("all tests passed");
    Ok(())
}

fn e2e_files() -> Result<Vec<String>, String> {
    let dir = root().join("tests/e2e");
    let mut files: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .map(|p| p.strip_prefix(root()).unwrap_or(&p).display().to_string())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err("no end-to-end tests found in tests/e2e".into());
    }
    Ok(files)
}

/// The newest modification time of a file or of any file below a directory.
fn newest(path: &Path) -> Option<std::time::SystemTime> {
    let meta = fs::metadata(path).ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    fs::read_dir(path).ok()?.filter_map(|e| e.ok()).filter_map(|e| newest(&e.path())).max()
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("writing {}: {e}", path.display()))
}
