//! Bindings to the parts of Chrome's extension API that tabreel uses (web-sys has none).
//!
//! Declared with wasm-bindgen so the Rust shell calls them directly; the promise-returning calls
//! are async functions whose rejection becomes an `Err`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A `chrome.runtime.Port`.
    #[derive(Clone, Debug)]
    pub type Port;

    /// `port.postMessage(message)`; throws once the port is disconnected.
    #[wasm_bindgen(method, catch, js_name = postMessage)]
    pub fn post_message(this: &Port, message: &JsValue) -> Result<(), JsValue>;

    /// `port.disconnect()`.
    #[wasm_bindgen(method)]
    pub fn disconnect(this: &Port);

    /// `port.onMessage`.
    #[wasm_bindgen(method, getter, js_name = onMessage)]
    pub fn on_message(this: &Port) -> ChromeEvent;

    /// `port.onDisconnect`.
    #[wasm_bindgen(method, getter, js_name = onDisconnect)]
    pub fn on_disconnect(this: &Port) -> ChromeEvent;

    /// `port.sender` (a `MessageSender`, in the service worker).
    #[wasm_bindgen(method, getter)]
    pub fn sender(this: &Port) -> JsValue;

    /// A Chrome event object (`onMessage`, `onDisconnect`, …).
    #[derive(Clone, Debug)]
    pub type ChromeEvent;

    /// `event.addListener(callback)`.
    #[wasm_bindgen(method, js_name = addListener)]
    pub fn add_listener(this: &ChromeEvent, callback: &js_sys::Function);

    /// `chrome.runtime.connect({name})`.
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = connect, catch)]
    pub fn runtime_connect(info: &JsValue) -> Result<Port, JsValue>;

    /// `chrome.runtime.getURL(path)`.
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = getURL)]
    pub fn runtime_get_url(path: &str) -> String;
}

#[cfg(feature = "engine")]
#[wasm_bindgen]
extern "C" {
    /// `chrome.runtime.sendMessage(message)`.
    #[wasm_bindgen(js_namespace = ["chrome", "runtime"], js_name = sendMessage, catch)]
    pub async fn runtime_send_message(message: &JsValue) -> Result<JsValue, JsValue>;

    /// `chrome.tabs.get(tabId)`.
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = get, catch)]
    pub async fn tabs_get(tab_id: f64) -> Result<JsValue, JsValue>;

    /// `chrome.webNavigation.getFrame(details)`: one frame of a tab (its parent, URL, …).
    #[wasm_bindgen(js_namespace = ["chrome", "webNavigation"], js_name = getFrame, catch)]
    pub async fn web_navigation_get_frame(details: &JsValue) -> Result<JsValue, JsValue>;

    /// `chrome.webNavigation.getAllFrames(details)`: the frames of a tab.
    #[wasm_bindgen(js_namespace = ["chrome", "webNavigation"], js_name = getAllFrames, catch)]
    pub async fn web_navigation_get_all_frames(details: &JsValue) -> Result<JsValue, JsValue>;

    /// `chrome.tabs.query(queryInfo)`.
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = query, catch)]
    pub async fn tabs_query(query: &JsValue) -> Result<JsValue, JsValue>;

    /// `chrome.tabs.create(createProperties)`.
    #[wasm_bindgen(js_namespace = ["chrome", "tabs"], js_name = create, catch)]
    pub async fn tabs_create(properties: &JsValue) -> Result<JsValue, JsValue>;

    /// `chrome.scripting.executeScript(injection)`.
    #[wasm_bindgen(js_namespace = ["chrome", "scripting"], js_name = executeScript, catch)]
    pub async fn scripting_execute_script(injection: &JsValue) -> Result<JsValue, JsValue>;

    /// `chrome.action.setBadgeText(details)`.
    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeText, catch)]
    pub async fn action_set_badge_text(details: &JsValue) -> Result<JsValue, JsValue>;

    /// `chrome.action.setBadgeBackgroundColor(details)`.
    #[wasm_bindgen(js_namespace = ["chrome", "action"], js_name = setBadgeBackgroundColor, catch)]
    pub async fn action_set_badge_background_color(details: &JsValue) -> Result<JsValue, JsValue>;
}

/// `chrome.runtime.id`: this extension's id.
pub fn runtime_id() -> String {
    let chrome = js_sys::Reflect::get(&js_sys::global(), &"chrome".into()).unwrap_or(JsValue::UNDEFINED);
    let runtime = js_sys::Reflect::get(&chrome, &"runtime".into()).unwrap_or(JsValue::UNDEFINED);
    js_sys::Reflect::get(&runtime, &"id".into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
}
