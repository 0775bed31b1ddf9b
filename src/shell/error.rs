//! The shell's error type: every `JsValue` thrown by a browser API is turned into a
//! [`ShellError`] with the context of what was being done, at the edge where it happens.

use std::fmt;

use wasm_bindgen::{JsCast, JsValue};

/// What went wrong in a browser call, with context.
#[derive(Debug, Clone, PartialEq)]
pub struct ShellError {
    /// What was being attempted.
    pub context: String,
    /// The browser's message.
    pub message: String,
}

impl ShellError {
    /// An error that did not come from the browser.
    pub fn new(context: impl Into<String>, message: impl Into<String>) -> Self {
        ShellError { context: context.into(), message: message.into() }
    }
}

impl fmt::Display for ShellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}", self.context)
        } else {
            write!(f, "{}: {}", self.context, self.message)
        }
    }
}

impl std::error::Error for ShellError {}

/// The readable message of a thrown JS value (an Error's message, or its string form).
pub fn js_message(value: &JsValue) -> String {
    if let Some(err) = value.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    if let Some(s) = value.as_string() {
        return s;
    }
    js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| format!("{value:?}"))
}

/// Adds context to browser results.
pub trait Context<T> {
    /// Converts the error into a [`ShellError`] saying what was being done.
    fn context(self, what: &str) -> Result<T, ShellError>;
}

impl<T> Context<T> for Result<T, JsValue> {
    fn context(self, what: &str) -> Result<T, ShellError> {
        self.map_err(|e| ShellError::new(what, js_message(&e)))
    }
}

/// Converts a JS value to a Rust value through JSON (for plain-data messages).
pub fn from_js<T: serde::de::DeserializeOwned>(value: &JsValue, what: &str) -> Result<T, ShellError> {
    let text = js_sys::JSON::stringify(value).context(what)?;
    let text = text.as_string().unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| ShellError::new(what, e.to_string()))
}

/// Converts a Rust value to a plain JS value through JSON.
pub fn to_js<T: serde::Serialize>(value: &T) -> JsValue {
    let text = serde_json::to_string(value).expect("plain data serialises");
    js_sys::JSON::parse(&text).expect("serde_json writes valid JSON")
}
