//! Shows recorded pictures, media state and the selection in the replay frame.
//!
//! A recorded canvas frame is a blob (PNG or WebP) loaded from the extension's store when the
//! replay opens. It is decoded once per content hash (`createImageBitmap`, unpremultiplied, so
//! that drawing it gives back the recorded pixels exactly) and drawn into the replayed `<canvas>`
//! from this page: the frame runs no script, but it is same-origin with the replay page, which can
//! draw into its canvases through the DOM. Decoding is asynchronous; a canvas shows the latest
//! picture it was asked for, whatever order decodes finish in. A `<video>` (whose media the
//! replay never loads) shows its recorded frame as its poster, from a `blob:` URL of this page.
//!
//! A `<canvas>` in a document without scripting (the sandboxed frame) is not painted: the
//! browser shows its fallback content instead (HTML: a canvas represents embedded content only
//! when scripting is enabled), and lays it out as an ordinary element, not a replaced one. So the
//! picture is also made the canvas's `content` (`content: url(...)` on an element makes it a
//! replaced element showing that image), by a rule of the replay's own in the `tabreel-ua`
//! cascade layer (the lowest; `!important` there beats anything a page says of `content`), in a
//! sheet of the frame's realm adopted after the page's. The canvas is then laid out as the live
//! one was: a replaced element whose natural size is the picture's (the canvas's bitmap size),
//! sized by the page's rules as the live canvas was (stretched in a flex row, `width: 100%` with
//! a proportional height, `height` alone with a proportional width, and so on: measured equal in
//! 19 layouts; an ordinary element with the canvas's width and height, as before, differed in
//! 10). Its page background is painted under it, and its fallback content is not shown, as live.
//! The rule selects the canvas by a `data-tabreel-picture` attribute; the DOM comparison leaves
//! both out. What is not the same: a canvas whose size changed after its last picture has the
//! picture's natural size until its next picture (the sampler's shortest interval, 100 ms, later
//! at best).
//!
//! [`Pictures::settled`] resolves once every picture asked for is drawn, so the replay page says
//! it is ready only when it looks right.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::core::event::{MediaState, SelectionPoint};

/// Decoded pictures kept at once; beyond this the cache starts again (a long animation is
/// decoded as it plays rather than held whole).
const MAX_DECODED: usize = 64;

#[derive(Default)]
struct Inner {
    /// The recorded bytes of every picture of the session, by hash.
    sources: HashMap<String, web_sys::Blob>,
    decoded: HashMap<String, JsValue>,
    decoding: HashMap<String, ()>,
    /// `blob:` URLs of pictures shown as video posters.
    urls: HashMap<String, String>,
    /// What each canvas should show (the latest asked for), keyed by the element.
    wanted: Vec<(Element, String)>,
    /// Called once nothing is being decoded.
    idle: Vec<js_sys::Function>,
    /// The `content` rule of each canvas showing a picture, by its `data-tabreel-picture`.
    rules: std::collections::BTreeMap<u32, String>,
    next_mark: u32,
    /// Bumped whenever `rules` change.
    version: u64,
    /// Per replayed document (the top-level one and every frame's): the adopted sheet holding
    /// `rules` (of that document's realm) and the `version` of `rules` it holds.
    sheets: Vec<(web_sys::Document, JsValue, u64)>,
}

/// The session's pictures, shared with the decodes in flight.
#[derive(Clone, Default)]
pub struct Pictures(Rc<RefCell<Inner>>);

impl Pictures {
    /// Adds a picture (its bytes as a `Blob` of their MIME type).
    pub fn add_source(&self, hash: String, picture: web_sys::Blob) {
        self.0.borrow_mut().sources.insert(hash, picture);
    }

    /// Forgets which elements want which picture (the document was replaced).
    pub fn forget_elements(&self) {
        let mut inner = self.0.borrow_mut();
        inner.wanted.clear();
        inner.rules.clear();
        inner.sheets.clear();
        inner.version += 1;
    }

    /// Keeps the `content` rules adopted by a replayed document (after the page's own adopted
    /// sheets, which the player sets as recorded), up to date. The rules of every document's
    /// canvases are in each sheet (their marks are unique across documents).
    pub fn ensure_sheet(&self, doc: &web_sys::Document, win: &web_sys::Window) -> Option<()> {
        let mut inner = self.0.borrow_mut();
        let at = inner.sheets.iter().position(|(d, _, _)| d == doc);
        if inner.rules.is_empty() && at.is_none() {
            return Some(());
        }
        let at = match at {
            Some(at) => at,
            None => {
                let ctor: js_sys::Function = js_sys::Reflect::get(win, &"CSSStyleSheet".into()).ok()?.dyn_into().ok()?;
                let sheet = js_sys::Reflect::construct(&ctor, &js_sys::Array::new()).ok()?;
                inner.sheets.push((doc.clone(), sheet, u64::MAX));
                inner.sheets.len() - 1
            }
        };
        let version = inner.version;
        let sheet = inner.sheets[at].1.clone();
        if inner.sheets[at].2 != version {
            let text = format!("@layer tabreel-ua {{ {} }}", inner.rules.values().cloned().collect::<Vec<_>>().join(" "));
            call(&sheet, "replaceSync", &[text.into()])?;
            inner.sheets[at].2 = version;
        }
        let list = doc.adopted_style_sheets();
        if !list.includes(&sheet, 0) {
            list.push(&sheet);
            doc.set_adopted_style_sheets(&list);
        }
        Some(())
    }

    /// Makes `hash` the `content` of `canvas` (see the module doc).
    fn set_content(&self, canvas: &Element, hash: &str) -> Option<()> {
        let url = self.url(hash)?;
        let mut inner = self.0.borrow_mut();
        let mark = match canvas.get_attribute("data-tabreel-picture").and_then(|m| m.parse::<u32>().ok()) {
            Some(mark) => mark,
            None => {
                inner.next_mark += 1;
                let mark = inner.next_mark;
                canvas.set_attribute("data-tabreel-picture", &mark.to_string()).ok()?;
                mark
            }
        };
        let rule = content_rule(mark, &url);
        if inner.rules.get(&mark) != Some(&rule) {
            inner.rules.insert(mark, rule);
            inner.version += 1;
        }
        Some(())
    }

    /// Shows picture `hash` in `el`: drawn into a canvas, or as a video's poster.
    pub fn show(&self, el: &Element, hash: &str) -> Option<()> {
        match el.local_name().as_str() {
            "canvas" => {
                self.set_content(el, hash);
                {
                    let mut inner = self.0.borrow_mut();
                    inner.wanted.retain(|(e, _)| e != el);
                    inner.wanted.push((el.clone(), hash.to_string()));
                }
                let decoded = self.0.borrow().decoded.get(hash).cloned();
                match decoded {
                    Some(bitmap) => draw(el, &bitmap),
                    None => {
                        self.decode(hash);
                        Some(())
                    }
                }
            }
            "video" => {
                let url = self.url(hash)?;
                el.set_attribute("poster", &url).ok()
            }
            _ => None,
        }
    }

    fn url(&self, hash: &str) -> Option<String> {
        let mut inner = self.0.borrow_mut();
        if let Some(url) = inner.urls.get(hash) {
            return Some(url.clone());
        }
        let url = web_sys::Url::create_object_url_with_blob(inner.sources.get(hash)?).ok()?;
        inner.urls.insert(hash.to_string(), url.clone());
        Some(url)
    }

    fn decode(&self, hash: &str) {
        let source = {
            let inner = self.0.borrow();
            if inner.decoding.contains_key(hash) {
                return;
            }
            inner.sources.get(hash).cloned()
        };
        let Some(source) = source else { return };
        let Some(window) = web_sys::window() else { return };
        // Unpremultiplied: the recorder encoded unpremultiplied pixels, and the canvas
        // premultiplies them once as it draws, as the recorded canvas had them.
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"premultiplyAlpha".into(), &"none".into());
        let Ok(create) = js_sys::Reflect::get(&window, &"createImageBitmap".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) else { return };
        let Ok(promise) = create.call2(&window, &source, &options).and_then(|p| p.dyn_into::<js_sys::Promise>()) else { return };
        self.0.borrow_mut().decoding.insert(hash.to_string(), ());
        let (me, done_hash) = (self.clone(), hash.to_string());
        let on_done = Closure::once(move |bitmap: JsValue| me.decoded(done_hash, Some(bitmap)));
        let (me, failed_hash) = (self.clone(), hash.to_string());
        let on_error = Closure::once(move |_: JsValue| me.decoded(failed_hash, None));
        let _ = promise.then2(&on_done, &on_error);
        on_done.forget();
        on_error.forget();
    }

    fn decoded(&self, hash: String, bitmap: Option<JsValue>) {
        let (targets, idle) = {
            let mut inner = self.0.borrow_mut();
            inner.decoding.remove(&hash);
            if let Some(bitmap) = &bitmap {
                if inner.decoded.len() >= MAX_DECODED {
                    inner.decoded.clear();
                }
                inner.decoded.insert(hash.clone(), bitmap.clone());
            }
            let targets: Vec<Element> = inner.wanted.iter().filter(|(_, h)| *h == hash).map(|(e, _)| e.clone()).collect();
            let idle = if inner.decoding.is_empty() { std::mem::take(&mut inner.idle) } else { Vec::new() };
            (targets, idle)
        };
        if let Some(bitmap) = bitmap {
            for el in targets {
                draw(&el, &bitmap);
            }
        }
        for resolve in idle {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        }
    }

    /// Resolves once no picture is being decoded (every canvas shows what it was asked to).
    pub fn settled(&self) -> js_sys::Promise {
        let me = self.clone();
        js_sys::Promise::new(&mut |resolve, _| {
            let mut inner = me.0.borrow_mut();
            if inner.decoding.is_empty() {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            } else {
                inner.idle.push(resolve);
            }
        })
    }
}

/// The rule that shows the picture at `url` as the content of the canvas marked `mark`.
fn content_rule(mark: u32, url: &str) -> String {
    format!("canvas[data-tabreel-picture=\"{mark}\"] {{ content: url(\"{url}\") !important; }}")
}

fn call(target: &JsValue, method: &str, args: &[JsValue]) -> Option<JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(target, &method.into()).ok()?.dyn_into().ok()?;
    f.apply(target, &args.iter().collect::<js_sys::Array>()).ok()
}

/// Replaces a canvas's pixels with `bitmap`, scaled to the canvas's bitmap size.
fn draw(canvas: &Element, bitmap: &JsValue) -> Option<()> {
    let get = |o: &JsValue, k: &str| js_sys::Reflect::get(o, &k.into()).ok();
    let ctx = get(canvas, "getContext")?.dyn_into::<js_sys::Function>().ok()?.call1(canvas, &"2d".into()).ok()?;
    if ctx.is_null() {
        return None; // a context of another kind: nothing this page can draw with
    }
    let (w, h) = (get(canvas, "width")?, get(canvas, "height")?);
    let call = |name: &str, args: &[JsValue]| -> Option<JsValue> {
        let f = get(&ctx, name)?.dyn_into::<js_sys::Function>().ok()?;
        f.apply(&ctx, &args.iter().collect::<js_sys::Array>()).ok()
    };
    call("save", &[])?;
    call("setTransform", &[1.into(), 0.into(), 0.into(), 1.into(), 0.into(), 0.into()])?;
    let _ = js_sys::Reflect::set(&ctx, &"globalAlpha".into(), &1.into());
    let _ = js_sys::Reflect::set(&ctx, &"globalCompositeOperation".into(), &"source-over".into());
    call("clearRect", &[0.into(), 0.into(), w.clone(), h.clone()])?;
    call("drawImage", &[bitmap.clone(), 0.into(), 0.into(), w, h])?;
    call("restore", &[])?;
    Some(())
}

/// Applies a recorded playback state to a media element. The replay never loads media, so the
/// element cannot play; what it can hold (time, rate, volume, muted, paused) it is given.
pub fn set_media(el: &Element, state: &MediaState) -> Option<()> {
    let set = |k: &str, v: JsValue| js_sys::Reflect::set(el, &k.into(), &v).ok();
    set("muted", state.muted.into())?;
    set("volume", state.volume.clamp(0.0, 1.0).into())?;
    set("playbackRate", state.rate.into())?;
    set("currentTime", state.time.into())?;
    if state.paused {
        let pause = js_sys::Reflect::get(el, &"pause".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
        pause.call0(el).ok()?;
    }
    el.set_attribute("data-tabreel-media", if state.paused { "paused" } else { "playing" }).ok()
}

/// Sets the frame document's selection from anchor to focus, or clears it.
pub fn set_selection(doc: &web_sys::Document, range: Option<((&web_sys::Node, SelectionPoint), (&web_sys::Node, SelectionPoint))>) -> Option<()> {
    let selection = doc.get_selection().ok()??;
    match range {
        Some(((anchor, a), (focus, f))) => selection.set_base_and_extent(anchor, a.offset, focus, f.offset).ok(),
        None => selection.remove_all_ranges().ok(),
    }
}
