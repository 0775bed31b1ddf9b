//! wasm-bindgen tests of the web-sys shell, run in headless Chromium by `wasm-pack test`
//! (`cargo xtask test`). They drive the real recorder, store and renderer against a real DOM and
//! a real IndexedDB.
#![cfg(all(target_arch = "wasm32", feature = "capture", feature = "engine"))]

use std::cell::RefCell;
use std::rc::Rc;

use tabreel::core::event::{Event, EventData, FormState, NodeKind, SerializedNode, Snapshot};
use tabreel::core::format::{SessionFile, SessionMeta};
use tabreel::core::player::Player;
use tabreel::core::vdom::{EventModel, VirtualDom};
use tabreel::shell::capture::recorder::Recorder;
use tabreel::shell::player::Renderer;
use tabreel::shell::blob_store::StoredBlob;
use tabreel::shell::store::SessionStore;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Document, HtmlElement, HtmlIFrameElement};

wasm_bindgen_test_configure!(run_in_browser);

fn page() -> Document {
    web_sys::window().unwrap().document().unwrap()
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    JsFuture::from(p).await.unwrap();
}

/// A same-origin frame whose document holds `html`; the recorder records that document, so the
/// test runner's own page output cannot interfere.
async fn frame_with(html: &str) -> (HtmlIFrameElement, Document) {
    let frame: HtmlIFrameElement = page().create_element("iframe").unwrap().unchecked_into();
    page().body().unwrap().append_child(&frame).unwrap();
    let doc = frame.content_document().unwrap();
    let html_doc: &web_sys::HtmlDocument = doc.unchecked_ref();
    html_doc.open().unwrap();
    html_doc.write(&js_sys::Array::of1(&JsValue::from_str(html))).unwrap();
    html_doc.close().unwrap();
    (frame, doc)
}

/// A recorder of `doc`, once its snapshot is out (the first slice runs in a task of its own).
async fn recorder_into(doc: &Document) -> (Recorder, Rc<RefCell<Vec<Event>>>) {
    let events = Rc::new(RefCell::new(Vec::new()));
    let sink_events = events.clone();
    let sink = Box::new(move |count: u32, _last: f64, json: Vec<u8>| {
        let batch: Vec<Event> = serde_json::from_slice(&json).expect("the recorder sends valid events");
        assert_eq!(batch.len() as u32, count);
        sink_events.borrow_mut().extend(batch);
    });
    let recorder = Recorder::start(doc.clone(), 0, sink, Box::new(|_| {})).expect("recorder starts");
    for _ in 0..200 {
        if events.borrow().iter().any(|e| matches!(e.data, EventData::Snapshot(_))) {
            break;
        }
        sleep(0).await;
    }
    (recorder, events)
}

fn outline_of(events: &[Event]) -> String {
    let mut dom = VirtualDom::default();
    for e in events {
        dom.apply(e);
    }
    dom.outline()
}

/// Snapshot of the document right now, as an outline.
async fn fresh_outline(doc: &Document) -> String {
    let (fresh, snap) = recorder_into(doc).await;
    drop(fresh);
    let events = snap.borrow().clone();
    assert!(matches!(events[0].data, EventData::Snapshot(_)));
    outline_of(&events[..1])
}

#[wasm_bindgen_test]
async fn snapshot_plus_recorded_mutations_equals_a_fresh_snapshot() {
    let (_frame, doc) = frame_with("<!DOCTYPE html><html><head><title>t</title></head><body><ul id=l><li>a</li><li>b</li></ul><p id=p class=x>hello</p></body></html>").await;
    let (recorder, events) = recorder_into(&doc).await;
    let list = doc.get_element_by_id("l").unwrap();
    let p = doc.get_element_by_id("p").unwrap();
    // One task: build a subtree in steps, move a node, change attributes and text.
    let li = doc.create_element("li").unwrap();
    list.append_child(&li).unwrap();
    li.set_text_content(Some("c"));
    li.set_attribute("data-x", "1").unwrap();
    list.insert_before(&list.last_element_child().unwrap(), list.first_child().as_ref()).unwrap();
    p.set_attribute("class", "y").unwrap();
    p.first_child().unwrap().set_node_value(Some("changed"));
    sleep(0).await;
    // Another task: innerHTML replacement and a removal.
    p.set_inner_html("<b>bold</b> <i>it</i>");
    list.remove_child(&list.children().item(1).unwrap()).unwrap();
    sleep(0).await;
    recorder.flush();
    let replayed = outline_of(&events.borrow());
    drop(recorder);
    assert!(events.borrow().iter().filter(|e| matches!(e.data, EventData::Mutation(_))).count() >= 2);
    assert_eq!(replayed, fresh_outline(&doc).await);
    assert!(replayed.contains("\"bold\"") && replayed.contains("\"changed\"") == false);
}

#[wasm_bindgen_test]
async fn passwords_never_leave_the_page() {
    let (_frame, doc) = frame_with("<!DOCTYPE html><body><input id=pw type=password value=initialsecret><input id=t type=text><input id=later type=text autocomplete=username><textarea id=otp autocomplete=one-time-code>textareasecret</textarea><textarea id=late>plain words</textarea></body>").await;
    let pw: web_sys::HtmlInputElement = doc.get_element_by_id("pw").unwrap().unchecked_into();
    pw.set_value("typed-secret-123");
    let (recorder, events) = recorder_into(&doc).await;
    let text: web_sys::HtmlInputElement = doc.get_element_by_id("t").unwrap().unchecked_into();
    text.set_value("visible words");
    text.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    pw.set_value("another-secret-456");
    pw.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    // A text field that becomes a password field, then is typed into, then shown again.
    let later: web_sys::HtmlInputElement = doc.get_element_by_id("later").unwrap().unchecked_into();
    later.set_attribute("type", "password").unwrap();
    sleep(0).await;
    later.set_value("third-secret-789");
    later.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    later.set_attribute("type", "text").unwrap();
    later.set_attribute("value", "third-secret-789").unwrap();
    sleep(0).await;
    later.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    // A framework keeps a sensitive textarea's default value (its text child) equal to what was typed.
    let otp = doc.get_element_by_id("otp").unwrap();
    otp.set_text_content(Some("typed-otp-secret"));
    sleep(0).await;
    otp.first_child().unwrap().set_node_value(Some("edited-otp-secret"));
    sleep(0).await;
    // A textarea that becomes sensitive while recorded: its text from then on is withheld, the
    // text node it had and a new one alike.
    let late = doc.get_element_by_id("late").unwrap();
    late.set_attribute("autocomplete", "one-time-code").unwrap();
    sleep(0).await;
    late.first_child().unwrap().set_node_value(Some("late-otp-secret"));
    sleep(0).await;
    late.set_text_content(Some("later-otp-secret"));
    sleep(0).await;
    // Moved (removed and put back in one batch), then edited.
    doc.body().unwrap().append_child(&late).unwrap();
    sleep(0).await;
    late.first_child().unwrap().set_node_value(Some("moved-otp-secret"));
    sleep(0).await;
    // A password field added later.
    let added = doc.create_element("input").unwrap();
    added.set_attribute("type", "password").unwrap();
    added.set_attribute("value", "fourth-secret-000").unwrap();
    doc.body().unwrap().append_child(&added).unwrap();
    sleep(0).await;
    recorder.flush();
    let json = serde_json::to_string(&*events.borrow()).unwrap();
    for secret in ["initialsecret", "typed-secret", "another-secret", "third-secret", "fourth-secret", "textareasecret", "otp-secret"] {
        // "otp-secret" covers late-, later- and moved-otp-secret too.
        assert!(!json.contains(secret), "{secret} leaked: {json}");
    }
    assert!(json.contains("visible words"), "the check must be able to fail");
    assert!(json.contains("plain words"), "the textarea's text before it became sensitive is recorded: {json}");
    let masked = events.borrow().iter().filter(|e| matches!(e.data, EventData::Input { state: FormState::Masked { filled: true }, .. })).count();
    // `pw` was already filled in the snapshot, so typing more changes nothing recordable; `later`
    // becomes filled once; the repeat after it turned back to text is the same masked state; the
    // late textarea is recorded as masked and filled when it becomes sensitive.
    assert_eq!(masked, 2, "fields recorded as masked and filled: {json}");
}

#[wasm_bindgen_test]
async fn attribute_changes_are_recorded_by_qualified_name() {
    let (_frame, doc) = frame_with("<!DOCTYPE html><body><svg><defs><circle id=a r=1></circle></defs><use id=u xlink:href=#a></use></svg><p id=p class=x>t</p></body>").await;
    let (recorder, events) = recorder_into(&doc).await;
    let xlink = "http://www.w3.org/1999/xlink";
    let u = doc.get_element_by_id("u").unwrap();
    u.set_attribute_ns(Some(xlink), "xlink:href", "#b").unwrap();
    let p = doc.get_element_by_id("p").unwrap();
    p.set_attribute("class", "y").unwrap();
    p.set_attribute("class", "z").unwrap();
    p.set_attribute("data-gone", "1").unwrap();
    p.remove_attribute("data-gone").unwrap();
    sleep(0).await;
    // Another batch with the same names: each batch reads them afresh.
    p.set_attribute("class", "w").unwrap();
    u.remove_attribute_ns(Some(xlink), "href").unwrap();
    sleep(0).await;
    recorder.flush();
    drop(recorder);
    let changes: Vec<(String, Option<String>)> = events
        .borrow()
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Mutation(m) => Some(m.attrs.iter().map(|a| (a.name.clone(), a.value.clone())).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    let want = |n: &str, v: Option<&str>| (n.to_string(), v.map(str::to_string));
    assert_eq!(
        changes,
        vec![want("xlink:href", Some("#b")), want("class", Some("z")), want("data-gone", None), want("class", Some("w")), want("xlink:href", None)],
        "attribute changes in order, by qualified name"
    );
}

#[wasm_bindgen_test]
async fn attributes_with_odd_values_are_serialised_whole() {
    let (_frame, doc) = frame_with("<!DOCTYPE html><body><div id=host></div></body>").await;
    let (recorder, events) = recorder_into(&doc).await;
    let el = doc.create_element("p").unwrap();
    el.set_attribute("data-quote", "say \"hi\" \\ ok\n").unwrap();
    el.set_attribute("data-empty", "").unwrap();
    el.set_attribute("data-unicode", "été ✓ 𝄞").unwrap();
    // A lone surrogate (JSON cannot carry it): recorded as U+FFFD, like any page string.
    let lone = js_sys::JsString::from_char_code2(0x61, 0xD800);
    let set: js_sys::Function = js_sys::Reflect::get(&el, &"setAttribute".into()).unwrap().unchecked_into();
    set.call2(&el, &"data-lone".into(), &lone).unwrap();
    doc.get_element_by_id("host").unwrap().append_child(&el).unwrap();
    sleep(0).await;
    recorder.flush();
    drop(recorder);
    let added: Vec<(String, String)> = events
        .borrow()
        .iter()
        .filter_map(|e| match &e.data {
            EventData::Mutation(m) => m.adds.first().and_then(|a| match &a.nodes[0].kind {
                NodeKind::Element(el) => Some(el.attrs.clone()),
                _ => None,
            }),
            _ => None,
        })
        .next()
        .expect("the paragraph was recorded");
    let want: Vec<(String, String)> = [("data-quote", "say \"hi\" \\ ok\n"), ("data-empty", ""), ("data-unicode", "été ✓ 𝄞"), ("data-lone", "a\u{FFFD}")]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(added, want);
}

#[wasm_bindgen_test]
async fn form_state_scrolls_and_script_text_are_captured_as_policy_says() {
    let (_frame, doc) = frame_with("<!DOCTYPE html><body><script>var secretCode = 1;</script><textarea id=a>x</textarea><select id=s><option>one<option>two</select><input id=c type=checkbox><div id=box style='height:50px;overflow:auto'><div style='height:500px'>tall</div></div></body>").await;
    doc.get_element_by_id("a").unwrap().unchecked_into::<web_sys::HtmlTextAreaElement>().set_value("typed");
    doc.get_element_by_id("s").unwrap().unchecked_into::<web_sys::HtmlSelectElement>().set_value("two");
    doc.get_element_by_id("c").unwrap().unchecked_into::<web_sys::HtmlInputElement>().set_checked(true);
    doc.get_element_by_id("box").unwrap().set_scroll_top(120);
    let (recorder, events) = recorder_into(&doc).await;
    drop(recorder);
    let events = events.borrow();
    let EventData::Snapshot(snap) = &events[0].data else { panic!("first event is the snapshot") };
    let json = serde_json::to_string(snap).unwrap();
    assert!(!json.contains("secretCode"), "script text is not recorded");
    let forms: Vec<_> = snap.nodes.iter().filter_map(|n| match &n.kind { NodeKind::Element(e) => e.form.clone(), _ => None }).collect();
    assert!(forms.contains(&FormState::Value { value: "typed".into() }), "{forms:?}");
    assert!(forms.contains(&FormState::Value { value: "two".into() }));
    assert!(forms.contains(&FormState::Checked { checked: true }));
    assert_eq!(snap.scrolls.len(), 1);
    assert_eq!(snap.scrolls[0].y, 120.0);
}

#[wasm_bindgen_test]
async fn session_store_round_trips_in_real_indexeddb() {
    let store = SessionStore::open().await.expect("database opens");
    let id = format!("s-test-{}", js_sys::Date::now() as u64);
    let meta = SessionMeta { id: id.clone(), title: "T".into(), url: "http://127.0.0.1/".into(), started_at: 1000.0, duration_ms: 0.0, event_count: 0, bytes: 0 };
    store.create(&meta).await.unwrap();
    let (_frame, doc) = frame_with("<!DOCTYPE html><body><p>stored</p></body>").await;
    let (recorder, events) = recorder_into(&doc).await;
    drop(recorder);
    let events = events.borrow().clone();
    let json = serde_json::to_string(&events).unwrap();
    let data = tabreel::core::chunk::encode_json(&json).unwrap();
    store.append(&id, events.len() as u32, 1500.0, &data).await.unwrap();
    store.append(&id, events.len() as u32, 1700.0, &data).await.unwrap();
    let stored = store.session(&id).await.unwrap().unwrap();
    assert_eq!(stored.event_count, 2 * events.len() as u64);
    assert_eq!(stored.bytes, 2 * data.len() as u64);
    assert_eq!(stored.duration_ms, 700.0);
    let file = store.export(&id).await.unwrap();
    assert_eq!(file.events.len(), 2 * events.len());
    // A merge during recording takes only chunks under its size limit (none here), and then
    // every chunk once the recording is over; both keep every event and the counters, and
    // recount the bytes.
    store.compact(&id, Some(data.len())).await.unwrap();
    assert_eq!(store.session(&id).await.unwrap().unwrap().bytes, stored.bytes, "chunks at the limit are left alone");
    store.compact(&id, Some(data.len() + 1)).await.unwrap();
    let merged_live = store.session(&id).await.unwrap().unwrap();
    assert!(merged_live.bytes < stored.bytes, "{} bytes after merging small chunks, {} before", merged_live.bytes, stored.bytes);
    assert_eq!(store.export(&id).await.unwrap().events, file.events);
    store.compact(&id, None).await.unwrap();
    let merged = store.export(&id).await.unwrap();
    assert_eq!(merged.events, file.events);
    let after = store.session(&id).await.unwrap().unwrap();
    assert_eq!(after.event_count, stored.event_count);
    assert!(after.bytes > 0 && after.bytes < stored.bytes, "{} bytes after merging, {} before", after.bytes, stored.bytes);
    // Import it back under a fresh id (the original id is taken) and compare.
    let text = file.to_json();
    let imported = store.import(SessionFile::parse(&text).unwrap(), format!("{id}-copy")).await.unwrap();
    assert_eq!(imported, format!("{id}-copy"));
    let again = store.export(&imported).await.unwrap();
    assert_eq!(again.events, file.events);
    assert!(store.list().await.unwrap().iter().any(|s| s.id == imported));
    assert!(store.delete(&imported).await.unwrap());
    assert!(store.delete(&id).await.unwrap());
    assert!(!store.delete(&id).await.unwrap());
    assert!(store.session(&id).await.unwrap().is_none());
    assert!(store.events(&id).await.unwrap().is_empty());
    // Appending to a deleted session is an error, not a silent loss.
    assert!(store.append(&id, 1, 1.0, &data).await.is_err());
}

/// A session of a snapshot and, for `picture`, a canvas picture showing it.
async fn session_with(store: &SessionStore, id: &str, picture: Option<&str>) {
    let meta = SessionMeta { id: id.into(), title: "T".into(), url: "http://127.0.0.1/".into(), started_at: 1000.0, duration_ms: 0.0, event_count: 0, bytes: 0 };
    store.create(&meta).await.unwrap();
    let snapshot = Snapshot { url: "http://127.0.0.1/".into(), title: "T".into(), width: 1, height: 1, nodes: vec![SerializedNode { id: 1, parent: None, kind: NodeKind::Document }], scrolls: vec![], focus: None };
    let mut events = vec![Event { t: 1000.0, page: 0, frame: 0, data: EventData::Snapshot(snapshot) }];
    if let Some(hash) = picture {
        events.push(Event { t: 1100.0, page: 0, frame: 0, data: EventData::CanvasFrame { target: 1, hash: hash.into(), width: 1, height: 1 } });
    }
    let data = tabreel::core::chunk::encode(&events, tabreel::core::chunk::Effort::Live);
    store.append(id, events.len() as u32, 1100.0, &data).await.unwrap();
}

#[wasm_bindgen_test]
async fn one_blob_store_holds_assets_and_pictures_until_their_last_session_goes() {
    let store = SessionStore::open().await.expect("database opens");
    let run = js_sys::Date::now() as u64;
    let blob = |mime: &str, text: String| {
        let bytes = text.into_bytes();
        StoredBlob { hash: tabreel::core::blob::hash(&bytes), mime: mime.into(), bytes }
    };
    // The same PNG bytes are an asset of one session and a picture of another.
    let png = blob("image/png", format!("\u{89}PNG picture {run}"));
    let css = blob("text/css", format!("a{{b:c}} /* {run} */"));
    let before = store.blob_count().await.unwrap();
    let (a, b) = (format!("s-blobs-a-{run}"), format!("s-blobs-b-{run}"));
    session_with(&store, &a, None).await;
    session_with(&store, &b, Some(&png.hash)).await;
    store.put_asset(&a, "http://127.0.0.1/a.png", &png).await.unwrap();
    store.put_asset(&a, "http://127.0.0.1/copy.png", &png).await.unwrap();
    store.put_asset(&a, "http://127.0.0.1/s.css", &css).await.unwrap();
    store.put_blob(&b, &png).await.unwrap();
    store.put_blob(&b, &png).await.unwrap();
    assert_eq!(store.blob_count().await.unwrap(), before + 2, "each content once");
    assert!(store.has_asset(&a, "http://127.0.0.1/s.css").await.unwrap());

    // Export: each session's file carries what it uses, and reads back.
    let file_a = SessionFile::parse(&store.export(&a).await.unwrap().to_json()).unwrap();
    assert_eq!(file_a.assets.len(), 3);
    let mut hashes: Vec<&str> = file_a.blobs.iter().map(|x| x.hash.as_str()).collect();
    hashes.sort();
    let mut want = vec![png.hash.as_str(), css.hash.as_str()];
    want.sort();
    assert_eq!(hashes, want);
    let file_b = SessionFile::parse(&store.export(&b).await.unwrap().to_json()).unwrap();
    assert!(file_b.assets.is_empty());
    assert_eq!(file_b.blob_bytes().unwrap(), vec![(png.hash.clone(), png.mime.clone(), png.bytes.clone())]);

    // Import holds the contents without storing them again.
    let copy = store.import(file_b.clone(), format!("{b}-copy")).await.unwrap();
    assert_eq!(store.blob_count().await.unwrap(), before + 2);
    assert_eq!(store.export(&copy).await.unwrap().blobs, file_b.blobs);

    // A content goes with the last session that holds it, whatever the use.
    assert!(store.delete(&a).await.unwrap());
    assert!(!store.has_asset(&a, "http://127.0.0.1/s.css").await.unwrap());
    assert_eq!(store.blob_count().await.unwrap(), before + 1, "the sheet only session a held is gone");
    assert_eq!(store.export(&b).await.unwrap().blobs, file_b.blobs, "the picture stays for b");
    assert!(store.delete(&b).await.unwrap());
    assert_eq!(store.blob_count().await.unwrap(), before + 1, "the import still holds it");
    assert!(store.delete(&copy).await.unwrap());
    assert_eq!(store.blob_count().await.unwrap(), before);
}

/// Makes the database `name` as version 1 of the extension made its own (`sessions`, `chunks`,
/// `tabs`), holding one session of one chunk (`data`) and one tab recording it.
const MAKE_VERSION_1: &str = r#"
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1);
    req.onerror = () => reject(req.error);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('sessions', { keyPath: 'id' });
      db.createObjectStore('chunks', { autoIncrement: true }).createIndex('by_session', 'sessionId');
      db.createObjectStore('tabs', { keyPath: 'tabId' });
    };
    req.onsuccess = () => {
      const db = req.result;
      const tx = db.transaction(['sessions', 'chunks', 'tabs'], 'readwrite');
      tx.objectStore('sessions').put({ id, title: 'old', url: 'http://127.0.0.1/', startedAt: 1000, durationMs: 100, eventCount: count, bytes: data.length });
      tx.objectStore('chunks').add({ sessionId: id, count, lastT: 1100, data });
      tx.objectStore('tabs').put({ tabId: 4242, sessionId: id, nextPage: 1 });
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  });"#;

#[wasm_bindgen_test]
async fn a_version_1_database_upgrades_keeping_its_sessions() {
    let id = format!("s-v1-{}", js_sys::Date::now() as u64);
    let snapshot = Snapshot { url: "http://127.0.0.1/".into(), title: "old".into(), width: 1, height: 1, nodes: vec![SerializedNode { id: 1, parent: None, kind: NodeKind::Document }], scrolls: vec![], focus: None };
    let events = vec![Event { t: 1000.0, page: 0, frame: 0, data: EventData::Snapshot(snapshot) }];
    let data = tabreel::core::chunk::encode(&events, tabreel::core::chunk::Effort::Live);
    let name = format!("tabreel-v1-{id}");
    let make = js_sys::Function::new_with_args("name, id, count, data", MAKE_VERSION_1);
    let args = js_sys::Array::of4(&name.as_str().into(), &id.as_str().into(), &JsValue::from(events.len() as u32), &js_sys::Uint8Array::from(data.as_slice()));
    let made = make.apply(&JsValue::NULL, &args).unwrap();
    JsFuture::from(js_sys::Promise::from(made)).await.expect("a version 1 database is made");

    let store = SessionStore::open_named(&name).await.expect("the version 1 database opens, upgraded");
    let meta = store.session(&id).await.unwrap().expect("its session is kept");
    assert_eq!((meta.title.as_str(), meta.event_count), ("old", 1));
    assert_eq!(store.events(&id).await.unwrap(), events, "its chunks are kept");
    assert_eq!(store.tab(4242).await.unwrap().map(|t| t.session_id), Some(id.clone()), "its tabs are kept");
    assert_eq!(store.blob_count().await.unwrap(), 0);
    let bytes = b"\x89PNG after the upgrade".to_vec();
    let picture = StoredBlob { hash: tabreel::core::blob::hash(&bytes), mime: "image/png".into(), bytes };
    store.put_asset(&id, "http://127.0.0.1/a.png", &picture).await.expect("the blob store is there");
    assert_eq!(store.export(&id).await.unwrap().assets.len(), 1);
    store.delete_tab(4242).await.unwrap();
    assert!(store.delete(&id).await.unwrap());
    assert_eq!(store.blob_count().await.unwrap(), 0);
}

#[wasm_bindgen_test]
async fn renderer_rebuilds_the_recording_in_a_sandboxed_frame() {
    let (_src_frame, doc) = frame_with("<!DOCTYPE html><html><body><h1 onclick='x()'>Title</h1><form><input id=i value=v><select id=s><option>a<option selected>b</select></form><svg width=10 height=10><a xlink:href='#x'><rect width=5 height=5 /></a></svg></body></html>").await;
    let (recorder, events) = recorder_into(&doc).await;
    recorder.flush();
    drop(recorder);
    let events = events.borrow().clone();
    let started = events[0].t;
    let mut player = Player::new(events, started, 0.0);
    let ops = player.seek(f64::INFINITY);

    let target: HtmlIFrameElement = page().create_element("iframe").unwrap().unchecked_into();
    target.set_attribute("sandbox", "allow-same-origin").unwrap();
    let stage: HtmlElement = page().create_element("div").unwrap().unchecked_into();
    let pointer: HtmlElement = page().create_element("div").unwrap().unchecked_into();
    stage.append_child(&target).unwrap();
    page().body().unwrap().append_child(&stage).unwrap();
    let mut renderer = Renderer::new(target.clone(), stage, pointer);
    renderer.apply(&ops);
    assert_eq!(renderer.refused, 0);
    let replayed = target.content_document().unwrap();
    assert_eq!(replayed.compat_mode(), "CSS1Compat", "standards mode from the doctype");
    let h1 = replayed.query_selector("h1").unwrap().unwrap();
    assert_eq!(h1.text_content().unwrap(), "Title");
    assert!(!h1.has_attribute("onclick"), "inline handlers are dropped");
    let input: web_sys::HtmlInputElement = replayed.get_element_by_id("i").unwrap().unchecked_into();
    assert_eq!(input.value(), "v");
    let select: web_sys::HtmlSelectElement = replayed.get_element_by_id("s").unwrap().unchecked_into();
    assert_eq!(select.value(), "b");
    let link = replayed.query_selector("svg a").unwrap().unwrap();
    assert_eq!(link.namespace_uri().as_deref(), Some("http://www.w3.org/2000/svg"));
    assert_eq!(link.get_attribute_ns(Some("http://www.w3.org/1999/xlink"), "href").as_deref(), Some("#x"));
}

#[wasm_bindgen_test]
async fn controls_changed_through_attributes_are_recorded_with_their_live_state() {
    let (_frame, doc) = frame_with("<!DOCTYPE html><body><input id=t value=initial><input id=c type=checkbox><textarea id=a>default</textarea><select id=s><option>a<option>b</select><input id=typed value=x></body>").await;
    let typed: web_sys::HtmlInputElement = doc.get_element_by_id("typed").unwrap().unchecked_into();
    typed.set_value("user typed");
    let (recorder, events) = recorder_into(&doc).await;
    {
        let events = events.borrow();
        let EventData::Snapshot(snap) = &events[0].data else { panic!("snapshot first") };
        let forms: Vec<_> = snap.nodes.iter().filter_map(|n| match &n.kind { NodeKind::Element(e) => e.form.clone(), _ => None }).collect();
        // Only the field whose value was set directly (and the select) carry state; the others
        // follow their attributes, in the page and in the replay.
        assert_eq!(forms, vec![FormState::Value { value: "a".into() }, FormState::Value { value: "user typed".into() }]);
    }
    doc.get_element_by_id("t").unwrap().set_attribute("value", "set by script").unwrap();
    doc.get_element_by_id("c").unwrap().set_attribute("checked", "").unwrap();
    doc.get_element_by_id("a").unwrap().set_text_content(Some("new default"));
    let option = doc.create_element("option").unwrap();
    option.set_text_content(Some("c"));
    option.set_attribute("selected", "").unwrap();
    doc.get_element_by_id("s").unwrap().append_child(&option).unwrap();
    typed.set_attribute("value", "ignored by a dirty field").unwrap();
    sleep(0).await;
    recorder.flush();
    let inputs: Vec<FormState> = events.borrow().iter().filter_map(|e| match &e.data { EventData::Input { state, .. } => Some(state.clone()), _ => None }).collect();
    for expected in [
        FormState::Value { value: "set by script".into() },
        FormState::Checked { checked: true },
        FormState::Value { value: "new default".into() },
        FormState::Value { value: "c".into() },
    ] {
        assert!(inputs.contains(&expected), "{expected:?} missing from {inputs:?}");
    }
    assert!(!inputs.contains(&FormState::Value { value: "ignored by a dirty field".into() }), "a dirty field keeps its value: {inputs:?}");
}

fn open_shadow(host: &web_sys::Element, html: &str) -> web_sys::ShadowRoot {
    let root = host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open)).unwrap();
    root.set_inner_html(html);
    root
}

#[wasm_bindgen_test]
async fn shadow_roots_and_adopted_sheets_are_recorded_and_rendered() {
    let (_frame, doc) = frame_with("<!DOCTYPE html><body><div id=host><span slot=s>light</span></div><p id=late>late host</p></body>").await;
    let root = open_shadow(&doc.get_element_by_id("host").unwrap(), "<b>inside</b><slot name=s></slot>");
    let (recorder, events) = recorder_into(&doc).await;
    // Changes inside a recorded root, and a new nested host that already has its own root.
    root.first_child().unwrap().set_text_content(Some("changed inside"));
    let nested = doc.create_element("span").unwrap();
    let nested_root = open_shadow(&nested, "<i>nested</i>");
    root.append_child(&nested).unwrap();
    sleep(0).await;
    // A root attached to a recorded element, which the page then touches (the only sign of it).
    let late = doc.get_element_by_id("late").unwrap();
    let late_root = open_shadow(&late, "<em>late root</em><slot></slot>");
    late.set_attribute("class", "touched").unwrap();
    sleep(0).await;
    nested_root.set_inner_html("<u>nested changed</u>");
    // A sheet the late root adopts, made in the recorded document's realm.
    let window = doc.default_view().unwrap();
    let constructor: js_sys::Function = js_sys::Reflect::get(&window, &"CSSStyleSheet".into()).unwrap().unchecked_into();
    let sheet: web_sys::CssStyleSheet = js_sys::Reflect::construct(&constructor, &js_sys::Array::new()).unwrap().unchecked_into();
    sheet.replace_sync("em { color: rgb(1, 2, 3); }").unwrap();
    js_sys::Reflect::set(&late_root, &"adoptedStyleSheets".into(), &js_sys::Array::of1(&sheet)).unwrap();
    sleep(0).await;
    recorder.flush();
    drop(recorder);
    let events = events.borrow().clone();
    let replayed = outline_of(&events);
    assert_eq!(replayed, fresh_outline(&doc).await);
    for expected in ["changed inside", "nested changed", "late root", "#shadow-root (Open)"] {
        assert!(replayed.contains(expected), "{expected} in\n{replayed}");
    }

    let started = events[0].t;
    let ops = Player::new(events, started, 0.0).seek(f64::INFINITY);
    let target: HtmlIFrameElement = page().create_element("iframe").unwrap().unchecked_into();
    target.set_attribute("sandbox", "allow-same-origin").unwrap();
    let stage: HtmlElement = page().create_element("div").unwrap().unchecked_into();
    stage.append_child(&target).unwrap();
    page().body().unwrap().append_child(&stage).unwrap();
    let mut renderer = Renderer::new(target.clone(), stage, page().create_element("div").unwrap().unchecked_into());
    renderer.apply(&ops);
    assert_eq!(renderer.refused, 0);
    let frame_doc = target.content_document().unwrap();
    let late = frame_doc.get_element_by_id("late").unwrap();
    let em = late.shadow_root().expect("the root is attached in the replay").query_selector("em").unwrap().unwrap();
    let color = target.content_window().unwrap().get_computed_style(&em).unwrap().unwrap().get_property_value("color").unwrap();
    assert_eq!(color, "rgb(1, 2, 3)", "the adopted sheet applies in the replay");
    let host = frame_doc.get_element_by_id("host").unwrap();
    let slot = host.shadow_root().unwrap().query_selector("slot").unwrap().unwrap();
    let assigned: js_sys::Function = js_sys::Reflect::get(&slot, &"assignedNodes".into()).unwrap().unchecked_into();
    let assigned: js_sys::Array = assigned.call0(&slot).unwrap().unchecked_into();
    assert_eq!(assigned.length(), 1, "the light child is slotted");
}

/// A renderer over a fresh sandboxed iframe in the test page.
fn replay_target() -> (HtmlIFrameElement, Renderer) {
    let target: HtmlIFrameElement = page().create_element("iframe").unwrap().unchecked_into();
    target.set_attribute("sandbox", "allow-same-origin").unwrap();
    let stage: HtmlElement = page().create_element("div").unwrap().unchecked_into();
    stage.append_child(&target).unwrap();
    page().body().unwrap().append_child(&stage).unwrap();
    let pointer = page().create_element("div").unwrap().unchecked_into();
    (target.clone(), Renderer::new(target, stage, pointer))
}

/// What a replay frame shows: its markup and the live values of its fields.
fn shown(frame: &HtmlIFrameElement) -> String {
    let doc = frame.content_document().unwrap();
    let mut out = doc.document_element().unwrap().outer_html();
    let fields = doc.query_selector_all("input").unwrap();
    for i in 0..fields.length() {
        let field: web_sys::HtmlInputElement = fields.item(i).unwrap().unchecked_into();
        out.push_str(&format!("\n{} = {:?}", field.id(), field.value()));
    }
    out
}

#[wasm_bindgen_test]
async fn seeks_applied_in_turn_to_one_frame_show_what_a_fresh_render_shows() {
    let (_frame, doc) = frame_with(
        "<!DOCTYPE html><html><head><style>p{color:red}</style></head><body><ul id=l><li>a</li><li>b</li><li>c</li></ul>\
         <p id=p class=x>hello</p><input id=i value=v><div id=box><span>s</span></div></body></html>",
    )
    .await;
    let (recorder, events) = recorder_into(&doc).await;
    let list = doc.get_element_by_id("l").unwrap();
    let p = doc.get_element_by_id("p").unwrap();
    let input: web_sys::HtmlInputElement = doc.get_element_by_id("i").unwrap().unchecked_into();
    let li = doc.create_element("li").unwrap();
    li.set_text_content(Some("d"));
    list.append_child(&li).unwrap();
    sleep(30).await;
    list.insert_before(&list.last_element_child().unwrap(), list.first_child().as_ref()).unwrap();
    p.set_attribute("class", "y").unwrap();
    sleep(30).await;
    p.set_inner_html("<b>bold</b> <i>it</i>");
    input.set_value("typed");
    input.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    sleep(30).await;
    let boxed = doc.get_element_by_id("box").unwrap();
    list.first_element_child().unwrap().append_child(&boxed).unwrap();
    doc.query_selector("style").unwrap().unwrap().set_text_content(Some("p{color:blue}"));
    sleep(30).await;
    list.remove_child(&list.children().item(2).unwrap()).unwrap();
    p.remove_attribute("class").unwrap();
    sleep(30).await;
    recorder.flush();
    let events = events.borrow().clone();
    drop(recorder);
    let started = events[0].t;
    let mut times: Vec<f64> = events.iter().map(|e| e.t - started).collect();
    times.dedup();
    assert!(times.len() >= 5, "one event time per step: {times:?}");
    let mut order = vec![f64::INFINITY, 0.0];
    order.extend(times.iter().copied());
    order.extend(times.iter().rev().copied());
    order.extend([times[times.len() / 2], f64::INFINITY, times[1]]);

    let mut player = Player::new(events.clone(), started, 0.0);
    let (target, mut renderer) = replay_target();
    let mut diffs = 0;
    for at in order {
        let ops = player.seek(at);
        diffs += usize::from(!ops.iter().any(|op| matches!(op, tabreel::core::vdom::DomOp::Reset { .. })));
        renderer.apply(&ops);
        renderer.settle();
        let (fresh_target, mut fresh) = replay_target();
        fresh.apply(&Player::new(events.clone(), started, 0.0).seek(at));
        fresh.settle();
        assert_eq!(shown(&target), shown(&fresh_target), "at {at}");
        assert_eq!(renderer.refused, 0, "at {at}");
        fresh_target.parent_element().unwrap().remove();
    }
    assert!(diffs >= 10, "seeks after the first are diffs: {diffs}");
    renderer.apply(&player.seek(f64::INFINITY));
    let end = shown(&target);
    assert!(end.contains("<b>bold</b>") && end.contains("color:blue") && end.contains("i = \"typed\""), "{end}");
}
