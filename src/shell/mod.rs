//! The thin shell: one adapter per browser context, over web-sys and Chrome's extension APIs.
//!
//! `capture` is the content script (built with the `capture` feature, as real wasm for pages whose
//! CSP allows it and lowered to JS by wasm2js for every other page: `capture_build` picks); `worker`, `popup` and `player` are the extension's own
//! contexts (built with the `engine` feature as real wasm). Each turns browser events into calls
//! on [`crate::core`] and turns the core's answers back into browser calls.

pub mod chrome;
pub mod error;

#[cfg(feature = "capture")]
pub mod capture;

#[cfg(feature = "engine")]
pub mod assets;
#[cfg(feature = "engine")]
pub mod blob_store;
#[cfg(feature = "engine")]
pub mod capture_build;
#[cfg(feature = "engine")]
pub mod frame_css;
#[cfg(feature = "engine")]
pub mod frame_marks;
#[cfg(feature = "engine")]
pub mod frame_pictures;
#[cfg(feature = "engine")]
pub mod player;
#[cfg(feature = "engine")]
pub mod popup;
#[cfg(feature = "engine")]
pub mod store;
#[cfg(feature = "engine")]
pub mod ui;
#[cfg(feature = "engine")]
pub mod worker;
