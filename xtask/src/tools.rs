//! Installs the tools the build and tests need, pinned, when they are missing or of another
//! version: the wasm32 target, wasm-pack, wasm-bindgen-cli (the version in Cargo.lock), the npm
//! tools (`npm ci`: binaryen for wasm-opt/wasm2js, esbuild, playwright-core) and Debian's
//! Chromium with its ChromeDriver.

use std::path::Path;
use std::process::Command;

use crate::{root, step};

/// wasm-pack release the build is written against.
pub const WASM_PACK_VERSION: &str = "0.15.1";

/// Runs a command, failing with its description when it fails.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// A command's trimmed standard output, or `None` if it cannot run or fails.
pub fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).env("PATH", path()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// PATH with npm's `.bin` and cargo's `bin` first (npm's binaryen, never Debian's old one).
pub fn path() -> String {
    let mut parts = vec![root().join("node_modules/.bin").display().to_string()];
    if let Some(home) = std::env::var_os("HOME") {
        parts.push(Path::new(&home).join(".cargo/bin").display().to_string());
    }
    parts.push(std::env::var("PATH").unwrap_or_default());
    parts.join(":")
}

/// A command with the tool PATH set, run from the repo root.
pub fn tool(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("PATH", path()).current_dir(root());
    cmd
}

/// The exact wasm-bindgen version in Cargo.lock (the CLI must match it).
pub fn wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

/// Everything `cargo xtask build` needs.
pub fn ensure_build_tools() -> Result<(), String> {
    let targets = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !targets.lines().any(|t| t == "wasm32-unknown-unknown") {
        step("installing the wasm32-unknown-unknown target (rustup)");
        run(tool("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let have = output("wasm-pack", &["--version"]).unwrap_or_default();
    if !have.ends_with(WASM_PACK_VERSION) {
        step(&format!("installing wasm-pack {WASM_PACK_VERSION} (cargo install, a few minutes, once)"));
        run(tool("cargo").args(["install", "wasm-pack", "--version", WASM_PACK_VERSION]))?;
    }
    let want = wasm_bindgen_version()?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if !have.ends_with(&want) {
        step(&format!("installing wasm-bindgen-cli {want} to match Cargo.lock (cargo install, once)"));
        // Without --locked: with it, dependency resolution fails on this registry mirror.
        run(tool("cargo").args(["install", "wasm-bindgen-cli", "--version", &want]))?;
    }
    ensure_npm()
}

/// `npm ci` when node_modules is missing or older than package-lock.json.
pub fn ensure_npm() -> Result<(), String> {
    let lock = root().join("package-lock.json");
    let marker = root().join("node_modules/.package-lock.json");
    let stale = match (std::fs::metadata(&lock).and_then(|m| m.modified()), std::fs::metadata(&marker).and_then(|m| m.modified())) {
        (Ok(l), Ok(m)) => l > m,
        _ => true,
    };
    if stale || !root().join("node_modules/.bin/wasm2js").exists() {
        step("installing npm tools (npm ci: binaryen, esbuild, playwright-core)");
        run(tool("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    }
    Ok(())
}

/// Debian's Chromium and ChromeDriver, installed with apt when missing.
pub fn ensure_browser() -> Result<(), String> {
    if Path::new("/usr/bin/chromium").exists() && Path::new("/usr/bin/chromedriver").exists() {
        return Ok(());
    }
    step("installing Debian's chromium and chromium-driver (apt-get)");
    let root_user = output("id", &["-u"]).as_deref() == Some("0");
    let apt = |args: &[&str]| {
        let mut cmd = if root_user { Command::new("apt-get") } else { let mut c = Command::new("sudo"); c.arg("apt-get"); c };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut cmd)
    };
    apt(&["update", "-qq"])?;
    apt(&["install", "-y", "-qq", "chromium", "chromium-driver"])
}
