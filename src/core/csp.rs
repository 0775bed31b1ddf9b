//! Whether a document's Content-Security-Policy lets a content script compile WebAssembly.
//!
//! The capture runs as real wasm where the page allows it (several times less CPU per mutation
//! than its wasm2js lowering) and as wasm2js everywhere else. Chromium checks wasm compilation in
//! a content script against the *page's* policy, and a refused compilation fires a
//! `securitypolicyviolation` event the page sees (and a report it may send), so the capture must
//! never try and fall back: the service worker decides from the response headers it saw for the
//! document, before injecting. This module is that decision; anything it cannot read as allowing
//! wasm counts as refusing it.
//!
//! CSP3's "EnsureCSPDoesNotBlockWasmEval": each policy's `script-src` (or, without one,
//! `default-src`) must contain `'wasm-unsafe-eval'` or `'unsafe-eval'`; a policy with neither
//! directive does not restrict it. Report-only policies count too: they do not block, but a
//! violation of one is still reported to the page.

/// Whether every policy in `headers` (the values of the response's
/// `Content-Security-Policy` and `Content-Security-Policy-Report-Only` headers, each of which may
/// hold several comma-separated policies) allows a content script to compile WebAssembly.
pub fn allows_wasm<'a>(headers: impl IntoIterator<Item = &'a str>) -> bool {
    headers.into_iter().flat_map(|h| h.split(',')).all(policy_allows_wasm)
}

fn policy_allows_wasm(policy: &str) -> bool {
    let mut script_src = None;
    let mut default_src = None;
    for directive in policy.split(';') {
        let mut tokens = directive.split_ascii_whitespace();
        let Some(name) = tokens.next() else { continue };
        // The first occurrence of a directive wins; later duplicates are ignored (CSP3 §2.2.1).
        let slot = if name.eq_ignore_ascii_case("script-src") {
            &mut script_src
        } else if name.eq_ignore_ascii_case("default-src") {
            &mut default_src
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(tokens.any(|t| t.eq_ignore_ascii_case("'wasm-unsafe-eval'") || t.eq_ignore_ascii_case("'unsafe-eval'")));
        }
    }
    script_src.or(default_src).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_policy_or_no_script_directive_allows() {
        assert!(allows_wasm([]));
        assert!(allows_wasm([""]));
        assert!(allows_wasm(["frame-ancestors 'self'; upgrade-insecure-requests"]));
        assert!(allows_wasm(["style-src 'self'; img-src *"]));
    }

    #[test]
    fn script_src_decides_over_default_src() {
        assert!(!allows_wasm(["script-src 'self'"]));
        assert!(!allows_wasm(["default-src 'none'; script-src 'self'"]));
        assert!(allows_wasm(["default-src 'none'; script-src 'self' 'wasm-unsafe-eval'"]));
        assert!(allows_wasm(["script-src 'self' 'unsafe-eval'"]));
        // script-src allows, default-src does not: script-src is the one that applies.
        assert!(allows_wasm(["default-src 'self'; script-src 'unsafe-eval'"]));
        // script-src refuses even though default-src would allow.
        assert!(!allows_wasm(["default-src 'unsafe-eval'; script-src 'self'"]));
        // Only default-src.
        assert!(!allows_wasm(["default-src 'self' https:"]));
        assert!(allows_wasm(["default-src 'self' 'wasm-unsafe-eval'"]));
    }

    #[test]
    fn every_policy_must_allow() {
        // Two headers, or two policies in one header: the stricter one wins.
        assert!(!allows_wasm(["script-src 'unsafe-eval'", "script-src 'self'"]));
        assert!(!allows_wasm(["script-src 'unsafe-eval', default-src 'none'"]));
        assert!(allows_wasm(["script-src 'unsafe-eval', img-src 'self'"]));
    }

    #[test]
    fn case_whitespace_and_duplicates() {
        assert!(allows_wasm(["SCRIPT-SRC 'Wasm-Unsafe-Eval'"]));
        assert!(!allows_wasm(["  script-src\t'self'  ;  "]));
        // The first script-src counts; a later, laxer one is ignored.
        assert!(!allows_wasm(["script-src 'self'; script-src 'unsafe-eval'"]));
        // Keywords must be quoted: a host named unsafe-eval is not the keyword.
        assert!(!allows_wasm(["script-src unsafe-eval wasm-unsafe-eval"]));
        // A nonce or 'strict-dynamic' does not allow eval.
        assert!(!allows_wasm(["script-src 'nonce-abc' 'strict-dynamic'"]));
    }
}
