//! `cargo xtask`: builds, runs and tests tabreel on a fresh Debian machine.
//!
//! - `cargo xtask build`: leaves `extension/` loadable as an unpacked extension.
//! - `cargo xtask run`: builds and opens Chromium with the extension on the demo page (headless,
//!   with a short scripted demo, when there is no display).
//! - `cargo xtask test`: every test: host `cargo test`, wasm-bindgen tests in headless Chromium,
//!   and the Playwright end-to-end tests on the real extension.
//! - `cargo xtask bench [--quick] [--repeat N] [--cases a,b]`: builds, then measures what
//!   recording costs a page (no recorder, rrweb, tabreel) in headless Chromium (`bench/`).
//!
//! Each command installs what it needs first (see `tools.rs`) and says what it is doing.

mod build;
mod tools;

use std::path::PathBuf;
use std::process::ExitCode;

/// Repository root (the parent of this crate).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repo").to_path_buf()
}

/// Prints a step heading.
pub fn step(what: &str) {
    eprintln!("\x1b[1mxtask:\x1b[0m {what}");
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build::build(),
        Some("run") => build::build().and_then(|_| tools::ensure_browser()).and_then(|_| build::open_demo()),
        Some("test") => build::test(&args[1..]),
        Some("bench") => build::build().and_then(|_| tools::ensure_browser()).and_then(|_| build::bench(&args[1..])),
        _ => {
            eprintln!("usage: cargo xtask <build|run|test|bench>\n  build  build the extension into extension/\n  run    build, then open Chromium with it on the demo page\n  test   run every test (host, wasm-bindgen in Chromium, end-to-end)\n  bench  build, then benchmark recording against no recorder and rrweb ([--quick] [--repeat N] [--cases a,b]; see bench/README.md)");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\x1b[31mxtask: error:\x1b[0m {e}");
            ExitCode::FAILURE
        }
    }
}
