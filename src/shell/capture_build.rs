//! Which build of the capture a document gets: `gen/capture-wasm.js` (the capture crate as real
//! wasm) where the document's Content-Security-Policy lets a content script compile wasm, and
//! `gen/capture.js` (the same crate lowered to JS by wasm2js) everywhere else.
//!
//! Chromium checks a content script's wasm compilation against the page's policy, and a refusal
//! is visible to the page, so the worker decides before injecting, from the response headers of
//! the document (`webRequest.onHeadersReceived`, observed, never changed), judged by
//! [`crate::core::csp::allows_wasm`]. The verdict is kept in memory by tab and frame until the
//! loader of that document reports its start (`PageStart`): the worker then injects the right
//! build if the tab records, and tells the loader, which keeps the verdict in its isolated world
//! for a recording started later on that document (read back with [`PROBE_SCRIPT`]). Whatever is
//! unknown (headers not seen: a worker restart, a page served by a service worker, `about:blank`
//! and `srcdoc` frames that inherit their parent's policy) gets the wasm2js build.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::core::csp;
use crate::shell::error::from_js;

/// The capture lowered to JS: runs under any policy.
pub const WASM2JS_SCRIPT: &str = "gen/capture.js";
/// The capture as real wasm: several times less CPU per mutation, only where the policy allows.
pub const WASM_SCRIPT: &str = "gen/capture-wasm.js";
/// Evaluates to the verdict the loader kept for its document (`true` only if wasm is allowed).
pub const PROBE_SCRIPT: &str = "capture-probe.js";

/// Documents whose headers were seen and whose loader has not reported yet; a tab holds a handful
/// (its frames), and a tab's entries go when its top-level document changes or it closes.
const MAX_PENDING: usize = 4096;

thread_local! {
    /// By (tab, frame): the response's URL (without fragment) and whether its policy allows wasm.
    static PENDING: RefCell<HashMap<(i64, i64), (String, bool)>> = RefCell::new(HashMap::new());
}

/// The build to inject for a document whose verdict is `wasm`.
pub fn script(wasm: bool) -> &'static str {
    if wasm {
        WASM_SCRIPT
    } else {
        WASM2JS_SCRIPT
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeadersReceived {
    tab_id: i64,
    frame_id: i64,
    url: String,
    #[serde(default)]
    response_headers: Vec<Header>,
}

#[derive(Deserialize)]
struct Header {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

/// `chrome.webRequest.onHeadersReceived` for top-level and frame documents (registered by the
/// worker's JS glue): remembers whether the document's policy allows wasm.
#[wasm_bindgen]
pub fn handle_headers_received(details: JsValue) {
    let Ok(d) = from_js::<HeadersReceived>(&details, "reading response headers") else { return };
    if d.tab_id < 0 {
        return; // not in a tab (a prerender, the extension's own requests)
    }
    let policies = d.response_headers.iter().filter(|h| {
        h.name.eq_ignore_ascii_case("content-security-policy") || h.name.eq_ignore_ascii_case("content-security-policy-report-only")
    });
    let allows = csp::allows_wasm(policies.map(|h| h.value.as_deref().unwrap_or("")));
    PENDING.with_borrow_mut(|p| {
        if d.frame_id == 0 {
            p.retain(|(tab, _), _| *tab != d.tab_id);
        }
        if p.len() >= MAX_PENDING {
            p.clear();
        }
        p.insert((d.tab_id, d.frame_id), (without_fragment(&d.url).to_string(), allows));
    });
}

/// Whether the document that just started in `frame` of `tab` at `url` may run the wasm build:
/// only if its headers were seen, for this URL, and allow it. Forgets the entry.
pub fn take_verdict(tab: i64, frame: i64, url: &str) -> bool {
    PENDING.with_borrow_mut(|p| match p.remove(&(tab, frame)) {
        Some((seen, allows)) => allows && seen == without_fragment(url),
        None => false,
    })
}

/// Forgets a closed tab's entries.
pub fn forget_tab(tab: i64) {
    PENDING.with_borrow_mut(|p| p.retain(|(t, _), _| *t != tab));
}

fn without_fragment(url: &str) -> &str {
    url.split('#').next().unwrap_or(url)
}
