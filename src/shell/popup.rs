//! The popup: record/stop for the current tab, the session list (replay, export, delete) and
//! import. It talks to the service worker with the same messages as the automation contract.

use gloo_events::EventListener;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Document, HtmlElement, HtmlInputElement, Node};

use crate::core::format::{SessionFile, SessionMeta};
use crate::shell::chrome;
use crate::shell::error::{from_js, to_js, Context, ShellError};
use crate::shell::store::{new_session_id, SessionStore};
use crate::shell::ui::{by_id, clock, date, document, element, size};

/// Largest file imported through a message; Chrome refuses messages past 64 MiB.
const IMPORT_MESSAGE_CHARS: usize = 32 * 1024 * 1024;

/// Entry point, called by popup.js once the engine is initialised.
#[wasm_bindgen]
pub fn popup_main() {
    spawn_local(async {
        if let Err(e) = setup().await {
            show_status(&e.to_string(), true);
        }
    });
}

/// Sends a command to the worker; `{ok:false}` answers become errors.
pub async fn send(command: Value) -> Result<Value, ShellError> {
    let reply = chrome::runtime_send_message(&to_js(&command)).await.context("talking to the extension's service worker")?;
    let reply: Value = from_js(&reply, "reading the worker's answer")?;
    if reply.get("ok") == Some(&Value::Bool(false)) {
        let error = reply.get("error").and_then(Value::as_str).unwrap_or("unknown error");
        return Err(ShellError::new(error, ""));
    }
    Ok(reply)
}

fn show_status(text: &str, is_error: bool) {
    if let Ok(doc) = document() {
        if let Ok(status) = by_id::<HtmlElement>(&doc, "status") {
            status.set_text_content(Some(text));
            status.set_class_name(if is_error { "error" } else { "" });
        }
    }
}

async fn active_tab() -> Result<Option<(i64, String)>, ShellError> {
    let tabs = chrome::tabs_query(&to_js(&json!({ "active": true, "currentWindow": true }))).await.context("finding the current tab")?;
    let tabs: Vec<Value> = from_js(&tabs, "reading the current tab")?;
    Ok(tabs.first().and_then(|t| Some((t.get("id")?.as_i64()?, t.get("url").and_then(Value::as_str).unwrap_or_default().to_string()))))
}

async fn setup() -> Result<(), ShellError> {
    let doc = document()?;
    let record: HtmlElement = by_id(&doc, "record")?;
    EventListener::new(&record, "click", |_| spawn_local(async { report(toggle_recording().await) })).forget();
    let import: HtmlInputElement = by_id(&doc, "import")?;
    EventListener::new(&import, "change", |_| spawn_local(async { report(import_file().await) })).forget();
    refresh().await
}

fn report(result: Result<(), ShellError>) {
    if let Err(e) = result {
        show_status(&e.to_string(), true);
    }
}

async fn toggle_recording() -> Result<(), ShellError> {
    let (tab, _) = active_tab().await?.ok_or_else(|| ShellError::new("no current tab", ""))?;
    let status = send(json!({ "cmd": "status", "tabId": tab })).await?;
    let recording = status.get("recording").and_then(Value::as_bool).unwrap_or(false);
    let cmd = if recording { "stop" } else { "start" };
    send(json!({ "cmd": cmd, "tabId": tab })).await?;
    show_status(if recording { "Recording saved." } else { "Recording… use the page, then stop here." }, false);
    refresh().await
}

async fn refresh() -> Result<(), ShellError> {
    let doc = document()?;
    let record: HtmlElement = by_id(&doc, "record")?;
    match active_tab().await? {
        Some((tab, url)) if url.starts_with("http") || url.starts_with("file") => {
            let status = send(json!({ "cmd": "status", "tabId": tab })).await?;
            let recording = status.get("recording").and_then(Value::as_bool).unwrap_or(false);
            record.set_text_content(Some(if recording { "■ Stop recording" } else { "● Record this tab" }));
            record.set_class_name(if recording { "recording" } else { "" });
            record.remove_attribute("disabled").ok();
            if let Some(err) = status.get("error").and_then(Value::as_str) {
                show_status(&format!("Storage problem: {err}"), true);
            }
        }
        _ => {
            record.set_text_content(Some("This page cannot be recorded"));
            record.set_attribute("disabled", "").ok();
        }
    }
    let list = send(json!({ "cmd": "list" })).await?;
    let sessions: Vec<SessionMeta> = serde_json::from_value(list.get("sessions").cloned().unwrap_or_default()).map_err(|e| ShellError::new("reading the session list", e.to_string()))?;
    render_sessions(&doc, &sessions)
}

fn render_sessions(doc: &Document, sessions: &[SessionMeta]) -> Result<(), ShellError> {
    let body: HtmlElement = by_id(doc, "sessions")?;
    body.set_inner_html("");
    by_id::<HtmlElement>(doc, "empty")?.set_hidden(!sessions.is_empty());
    for s in sessions {
        let row = element(doc, "li", &[("class", "session"), ("data-id", &s.id)], "")?;
        let info = element(doc, "div", &[("class", "info")], "")?;
        let title = if s.title.is_empty() { s.url.as_str() } else { s.title.as_str() };
        info.append_child(&Node::from(element(doc, "div", &[("class", "title"), ("title", title)], title)?)).context("building the list")?;
        info.append_child(&Node::from(element(doc, "div", &[("class", "url"), ("title", &s.url)], &s.url)?)).context("building the list")?;
        let facts = format!("{} · {} · {} · {} events", date(s.started_at), clock(s.duration_ms), size(s.bytes), s.event_count);
        info.append_child(&Node::from(element(doc, "div", &[("class", "facts")], &facts)?)).context("building the list")?;
        row.append_child(&info).context("building the list")?;
        let actions = element(doc, "div", &[("class", "actions")], "")?;
        for (label, action) in [("Replay", "replay"), ("Export", "export"), ("Delete", "delete")] {
            let button = element(doc, "button", &[("data-action", action)], label)?;
            let id = s.id.clone();
            let action = action.to_string();
            EventListener::new(&button, "click", move |_| {
                let (id, action) = (id.clone(), action.clone());
                spawn_local(async move { report(session_action(&action, &id).await) });
            })
            .forget();
            actions.append_child(&button).context("building the list")?;
        }
        row.append_child(&actions).context("building the list")?;
        body.append_child(&row).context("building the list")?;
    }
    Ok(())
}

async fn session_action(action: &str, id: &str) -> Result<(), ShellError> {
    match action {
        "replay" => {
            let url = chrome::runtime_get_url(&format!("replay.html?session={id}"));
            chrome::tabs_create(&to_js(&json!({ "url": url }))).await.context("opening the replay")?;
        }
        "export" => {
            let text = export_text(id).await?;
            download(&format!("tabreel-{id}.json"), &text)?;
            show_status("Exported.", false);
        }
        "delete" => {
            send(json!({ "cmd": "delete", "id": id })).await?;
            show_status("Deleted.", false);
            refresh().await?;
        }
        _ => {}
    }
    Ok(())
}

/// The whole session file, joining parts when it is larger than one message.
async fn export_text(id: &str) -> Result<String, ShellError> {
    let first = send(json!({ "cmd": "export", "id": id, "format": "json" })).await?;
    let mut text = first.get("data").and_then(Value::as_str).unwrap_or_default().to_string();
    let parts = first.get("parts").and_then(Value::as_u64).unwrap_or(1);
    for part in 1..parts {
        let next = send(json!({ "cmd": "export", "id": id, "format": "json", "part": part })).await?;
        text.push_str(next.get("data").and_then(Value::as_str).unwrap_or_default());
    }
    Ok(text)
}

fn download(name: &str, text: &str) -> Result<(), ShellError> {
    let doc = document()?;
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).context("preparing the file")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).context("preparing the file")?;
    let link = element(&doc, "a", &[("href", &url), ("download", name)], "")?;
    link.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

async fn import_file() -> Result<(), ShellError> {
    let doc = document()?;
    let input: HtmlInputElement = by_id(&doc, "import")?;
    let Some(file) = input.files().and_then(|f| f.get(0)) else { return Ok(()) };
    let text = JsFuture::from(file.text()).await.context("reading the file")?;
    input.set_value("");
    let text = text.as_string().unwrap_or_default();
    let id = if text.len() <= IMPORT_MESSAGE_CHARS {
        let reply = send(json!({ "cmd": "import", "data": text })).await?;
        reply.get("sessionId").and_then(Value::as_str).unwrap_or("?").to_string()
    } else {
        // Too large for one message: the popup is in the extension's origin too, so it stores
        // the file itself, with the same checks and the same store as the worker.
        let file = SessionFile::parse(&text).map_err(|e| ShellError::new("import refused", e.to_string()))?;
        SessionStore::open().await?.import(file, new_session_id(js_sys::Date::now())).await?
    };
    show_status(&format!("Imported as {id}."), false);
    refresh().await
}
