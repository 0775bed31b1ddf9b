//! tabreel records a browser tab locally and replays it.
//!
//! [`core`] is the functional core (event model, encoding, masking, coalescing, replay state),
//! built and tested on the host. `shell` holds the thin adapters for each browser context, built
//! only for wasm with the `capture` (content script) or `engine` (service worker, popup, player)
//! feature.
#![deny(missing_docs)]

pub mod core;

#[cfg(all(target_arch = "wasm32", feature = "shell"))]
pub mod shell;
