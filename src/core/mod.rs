//! The functional core: plain Rust with no browser APIs, tested on the host with `cargo test`.

pub mod assets;
pub mod attr_ns;
pub mod blob;
pub mod chunk;
pub mod coalesce;
pub mod csp;
pub mod css;
pub mod cssom;
pub mod event;
pub mod format;
pub mod frames;
pub mod ids;
pub mod mask;
pub mod player;
pub mod protocol;
pub mod sanitize;
#[cfg(test)]
pub mod lcg;
#[cfg(test)]
pub mod screen;
pub mod url;
pub mod vdom;
pub mod walk;
