//! Small DOM helpers shared by the extension's pages (popup and player).

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement};

use crate::shell::error::{Context, ShellError};

/// The page's document.
pub fn document() -> Result<Document, ShellError> {
    web_sys::window().and_then(|w| w.document()).ok_or_else(|| ShellError::new("finding the page's document", ""))
}

/// An element by id, as the type expected.
pub fn by_id<T: JsCast>(doc: &Document, id: &str) -> Result<T, ShellError> {
    doc.get_element_by_id(id)
        .and_then(|e| e.dyn_into::<T>().ok())
        .ok_or_else(|| ShellError::new(format!("finding #{id} in the page"), "missing or of another type"))
}

/// A new element with attributes and text.
pub fn element(doc: &Document, tag: &str, attrs: &[(&str, &str)], text: &str) -> Result<HtmlElement, ShellError> {
    let el: Element = doc.create_element(tag).context("creating an element")?;
    for (name, value) in attrs {
        el.set_attribute(name, value).context("setting an attribute")?;
    }
    if !text.is_empty() {
        el.set_text_content(Some(text));
    }
    el.dyn_into::<HtmlElement>().map_err(|_| ShellError::new("creating an element", "not an HTML element"))
}

/// `m:ss` for a duration in ms.
pub fn clock(ms: f64) -> String {
    let total = (ms.max(0.0) / 1000.0).floor() as u64;
    format!("{}:{:02}", total / 60, total % 60)
}

/// A byte count for people.
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// A local date and time for an epoch-ms instant.
pub fn date(epoch_ms: f64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(epoch_ms));
    String::from(d.to_locale_string("default", &JsValue::UNDEFINED))
}
