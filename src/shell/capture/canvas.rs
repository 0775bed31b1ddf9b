//! Canvas (2D and WebGL) and video pictures, sampled while they are visible and recorded when
//! they changed.
//!
//! Why this route (measured on Chromium 156, see README "Canvas frames"): the page's CPU is what
//! matters, so the recorder asks the browser for everything it can do off the main thread. A
//! sample takes `createImageBitmap(canvas)` (a copy, ~0.1 ms), hands it to an `OffscreenCanvas`
//! (`bitmaprenderer`, no copy) and encodes it with `convertToBlob` as lossless WebP, which the
//! browser encodes on another thread. Only then does the page pay again: the bytes are turned
//! into base64 natively (`Uint8Array.prototype.toBase64`) and compared, as a JS string, with the
//! last picture's, so an unchanged canvas ends there; a changed one is sent to the worker as it
//! is (the string never passes through this script's memory), which hashes and stores it.
//!
//! WebGL canvases made without `preserveDrawingBuffer` are cleared once the browser has shown
//! them: read in an ordinary task they are blank. So samples are taken inside the frame's
//! rendering steps, after every `requestAnimationFrame` callback (the page's drawing) and before
//! paint: the recorder observes a detached element with a `ResizeObserver` from its own
//! animation frame callback, and a new observation is delivered in exactly that window.
//!
//! The rate is bounded and adapts per element: at most every [`MIN_INTERVAL_MS`]; each unchanged
//! sample doubles the wait up to [`MAX_INTERVAL_MS`]; page activity (input, mutations) brings it
//! back down; a sample that cost the page much, or a large picture, stretches it (so that
//! sampling takes at most about 1/[`COST_SHARE`] of the page's main thread and
//! [`BYTES_PER_SECOND`] per element). Visibility comes from an `IntersectionObserver`, so an
//! off-screen canvas costs nothing. Videos are sampled the same way; a cross-origin video cannot
//! be read (the browser refuses) and is left alone from then on.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::core::event::NodeId;
use crate::core::ids::IdMap;
use crate::shell::capture::perf_now;

/// Shortest interval between two samples of one element.
pub const MIN_INTERVAL_MS: f64 = 100.0;
/// Longest interval between two samples of a visible element that does not change.
pub const MAX_INTERVAL_MS: f64 = 1000.0;
/// Sampling may take at most about one part in this many of the page's main thread.
pub const COST_SHARE: f64 = 50.0;
/// Encoded bytes per second one element may produce, at most (its interval stretches).
pub const BYTES_PER_SECOND: f64 = 1_000_000.0;
/// The encoding of recorded pictures: lossless WebP (`quality` 1), encoded off the main thread.
pub const FRAME_MIME: &str = "image/webp";
/// Print what each sample cost the page (main-thread ms) to the console, for measuring.
const DEBUG_COST: bool = false;

/// A picture to send: element, size, the encoded bytes in base64, when it was taken.
pub struct Frame {
    /// The element.
    pub target: NodeId,
    /// Picture width in pixels.
    pub width: u32,
    /// Picture height in pixels.
    pub height: u32,
    /// Base64 of the encoded picture ([`FRAME_MIME`]), as a JS string: it goes into the port
    /// message as it is, never copied through this script's memory.
    pub data: JsValue,
    /// Epoch ms when it was sampled.
    pub t: f64,
}

/// Receives each changed picture.
pub type FrameSink = Box<dyn FnMut(Frame)>;

/// What the sampler knows about one element.
struct Tracked {
    element: Element,
    visible: bool,
    interval: f64,
    next_due: f64,
    /// The last picture recorded (base64, a JS string: compared natively).
    last_data: Option<JsValue>,
    /// The element cannot be read (a cross-origin video): never sampled again.
    unreadable: bool,
}

struct Inner {
    tracked: IdMap<NodeId, Tracked>,
    /// Samples being encoded (a new round starts only when the last one is done).
    in_flight: u32,
    sink: FrameSink,
    observer: Option<web_sys::IntersectionObserver>,
    _on_intersect: Option<Closure<dyn FnMut(js_sys::Array)>>,
}

/// The canvas and video sampler of one recorded page.
#[derive(Clone)]
pub struct CanvasSampler(Rc<RefCell<Inner>>);

fn get(target: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = get(target, method).dyn_into()?;
    f.apply(target, &args.iter().copied().collect::<js_sys::Array>())
}

fn then(promise: JsValue, on_done: impl FnOnce(JsValue) + 'static, on_error: impl FnOnce(JsValue) + 'static) {
    let Ok(promise) = promise.dyn_into::<js_sys::Promise>() else { return on_error(JsValue::UNDEFINED) };
    let on_error = Closure::once(move |e: JsValue| on_error(e));
    let on_done = Closure::once(on_done);
    let _ = promise.then2(&on_done, &on_error);
    on_done.forget();
    on_error.forget();
}

impl CanvasSampler {
    /// A sampler sending changed pictures to `sink`.
    pub fn new(sink: FrameSink) -> CanvasSampler {
        let sampler = CanvasSampler(Rc::new(RefCell::new(Inner { tracked: IdMap::default(), in_flight: 0, sink, observer: None, _on_intersect: None })));
        let me = Rc::downgrade(&sampler.0);
        let on_intersect = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
            let Some(inner) = me.upgrade() else { return };
            let Ok(mut inner) = inner.try_borrow_mut() else { return };
            for entry in entries.iter() {
                let entry: web_sys::IntersectionObserverEntry = entry.unchecked_into();
                let target = JsValue::from(entry.target());
                for t in inner.tracked.values_mut() {
                    if JsValue::from(t.element.clone()) == target {
                        t.visible = entry.is_intersecting();
                        t.next_due = 0.0; // sample what came into view
                    }
                }
            }
        });
        if let Ok(observer) = web_sys::IntersectionObserver::new(on_intersect.as_ref().unchecked_ref()) {
            let mut inner = sampler.0.borrow_mut();
            inner.observer = Some(observer);
            inner._on_intersect = Some(on_intersect);
        }
        sampler
    }

    /// Starts watching an element (a canvas or video with a node id); known ones are skipped.
    pub fn track(&self, id: NodeId, element: &Element) {
        let mut inner = self.0.borrow_mut();
        if inner.tracked.get(&id).is_some_and(|t| &t.element == element) {
            return;
        }
        if let Some(observer) = &inner.observer {
            observer.observe(element);
        }
        let tracked = Tracked { element: element.clone(), visible: false, interval: MIN_INTERVAL_MS, next_due: 0.0, last_data: None, unreadable: false };
        inner.tracked.insert(id, tracked);
    }

    /// Forgets elements that left the document.
    pub fn prune(&self) {
        let mut inner = self.0.borrow_mut();
        let gone: Vec<NodeId> = inner.tracked.iter().filter(|(_, t)| !t.element.is_connected()).map(|(id, _)| *id).collect();
        for id in gone {
            if let Some(t) = inner.tracked.remove(&id) {
                if let Some(observer) = &inner.observer {
                    observer.unobserve(&t.element);
                }
            }
        }
    }

    /// The page did something (input, mutations): waits that grew while nothing changed shrink
    /// back, so a canvas redrawn in response is seen soon.
    pub fn poke(&self) {
        if let Ok(mut inner) = self.0.try_borrow_mut() {
            if inner.tracked.is_empty() {
                return; // the usual case, and this runs for every mutation batch and pointer move
            }
            let now = perf_now();
            for t in inner.tracked.values_mut() {
                if t.interval > MIN_INTERVAL_MS {
                    t.interval = MIN_INTERVAL_MS;
                    t.next_due = t.next_due.min(now + MIN_INTERVAL_MS);
                }
            }
        }
    }

    /// Whether no element is tracked.
    pub fn is_empty(&self) -> bool {
        self.0.borrow().tracked.is_empty()
    }

    /// Ms until the next sample is due (visible elements only), if any.
    pub fn next_delay(&self) -> Option<f64> {
        let inner = self.0.borrow();
        let now = perf_now();
        inner.tracked.values().filter(|t| t.visible && !t.unreadable).map(|t| (t.next_due - now).max(0.0)).reduce(f64::min)
    }

    /// Whether a round of samples is still being encoded.
    pub fn busy(&self) -> bool {
        self.0.borrow().in_flight > 0
    }

    /// Samples every visible element that is due, in the next frame's rendering steps.
    pub fn sample_due(&self) {
        let now = perf_now();
        let due: Vec<(NodeId, Element)> = {
            let inner = self.0.borrow();
            if inner.in_flight > 0 {
                return;
            }
            inner.tracked.iter().filter(|(_, t)| t.visible && !t.unreadable && t.next_due <= now).map(|(id, t)| (*id, t.element.clone())).collect()
        };
        if due.is_empty() {
            return;
        }
        let Some(window) = web_sys::window() else { return };
        let Ok(document) = window.document().ok_or(()) else { return };
        let count = due.len();
        self.0.borrow_mut().in_flight += count as u32;
        let me = self.clone();
        let on_frame = Closure::once_into_js(move || {
            // Observing a detached element delivers one observation in this frame's rendering
            // steps: after every animation frame callback, before paint.
            let Ok(probe) = document.create_element("div") else { return me.abandon(count) };
            let observer_slot: Rc<RefCell<Option<web_sys::ResizeObserver>>> = Rc::new(RefCell::new(None));
            let slot = observer_slot.clone();
            let me2 = me.clone();
            let mut due = Some(due);
            let on_resize = Closure::<dyn FnMut()>::new(move || {
                if let Some(observer) = slot.borrow_mut().take() {
                    observer.disconnect();
                }
                if let Some(due) = due.take() {
                    for (id, el) in due {
                        me2.sample(id, el);
                    }
                }
            });
            match web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
                Ok(observer) => {
                    observer.observe(&probe);
                    *observer_slot.borrow_mut() = Some(observer);
                    on_resize.forget(); // called once; it drops its captures after
                }
                Err(_) => me.abandon(count),
            }
        });
        if window.request_animation_frame(on_frame.unchecked_ref()).is_err() {
            self.abandon(count);
        }
    }

    fn abandon(&self, samples: usize) {
        let mut inner = self.0.borrow_mut();
        inner.in_flight = inner.in_flight.saturating_sub(samples as u32);
    }

    /// One element's sample: copy now, encode off the main thread, compare, send if changed.
    fn sample(&self, id: NodeId, el: Element) {
        let t = js_sys::Date::now();
        let start = perf_now();
        let width = get(&el, if el.local_name() == "video" { "videoWidth" } else { "width" }).as_f64().unwrap_or(0.0);
        let height = get(&el, if el.local_name() == "video" { "videoHeight" } else { "height" }).as_f64().unwrap_or(0.0);
        if width < 1.0 || height < 1.0 {
            return self.finish(id, start, 0.0, None);
        }
        let window = js_sys::global();
        let bitmap = match call(&window, "createImageBitmap", &[&el]) {
            Ok(p) => p,
            Err(_) => return self.unreadable(id),
        };
        let mut cost = perf_now() - start;
        let me = self.clone();
        // Only a tainted element (a cross-origin video) is unreadable for good: a video that has
        // its size but not yet a frame (`HAVE_METADATA`) is refused too, and is tried again.
        let on_refused = {
            let me = self.clone();
            move |error: JsValue| match get(&error, "name").as_string().as_deref() {
                Some("SecurityError") => me.unreadable(id),
                _ => me.finish(id, perf_now(), cost, None),
            }
        };
        then(
            bitmap,
            move |bitmap| {
                let start = perf_now();
                let (w, h) = (get(&bitmap, "width"), get(&bitmap, "height"));
                let encoded = (|| {
                    let constructor: js_sys::Function = get(&js_sys::global(), "OffscreenCanvas").dyn_into().ok()?;
                    let canvas = js_sys::Reflect::construct(&constructor, &js_sys::Array::of2(&w, &h)).ok()?;
                    let ctx = call(&canvas, "getContext", &[&"bitmaprenderer".into()]).ok()?;
                    call(&ctx, "transferFromImageBitmap", &[&bitmap]).ok()?;
                    let options = js_sys::Object::new();
                    let _ = js_sys::Reflect::set(&options, &"type".into(), &FRAME_MIME.into());
                    let _ = js_sys::Reflect::set(&options, &"quality".into(), &1.0.into());
                    call(&canvas, "convertToBlob", &[&options]).ok()
                })();
                cost += perf_now() - start;
                let Some(encoded) = encoded else { return me.finish(id, start, cost, None) };
                let me2 = me.clone();
                then(encoded, move |blob| me2.compare(id, t, blob, cost, (w.as_f64().unwrap_or(0.0) as u32, h.as_f64().unwrap_or(0.0) as u32)), move |_| me.finish(id, perf_now(), cost, None));
            },
            on_refused,
        );
    }

    /// Compares an encoded picture with the element's last one and sends it if it differs.
    fn compare(&self, id: NodeId, t: f64, blob: JsValue, mut cost: f64, (width, height): (u32, u32)) {
        let start = perf_now();
        let size = get(&blob, "size").as_f64().unwrap_or(-1.0);
        let Ok(bytes) = call(&blob, "arrayBuffer", &[]) else { return self.finish(id, start, cost, None) };
        cost += perf_now() - start;
        let me = self.clone();
        let fail = self.clone();
        then(
            bytes,
            move |buffer| {
                let start = perf_now();
                let bytes = js_sys::Uint8Array::new(&buffer);
                // Native base64 (Chrome 140+), else through this script (slower, same result).
                let data = call(&bytes, "toBase64", &[]).ok().filter(JsValue::is_string).unwrap_or_else(|| crate::core::blob::to_base64(&bytes.to_vec()).into());
                let same = me.0.borrow().tracked.get(&id).and_then(|t| t.last_data.as_ref()).is_some_and(|last| *last == data);
                if same {
                    return me.finish(id, start, cost, None);
                }
                if let Some(t) = me.0.borrow_mut().tracked.get_mut(&id) {
                    t.last_data = Some(data.clone());
                }
                let frame = Frame { target: id, width, height, data, t };
                if let Ok(mut inner) = me.0.try_borrow_mut() {
                    (inner.sink)(frame);
                }
                me.finish(id, start, cost, Some(size));
            },
            move |_| fail.finish(id, perf_now(), cost, None),
        );
    }

    fn unreadable(&self, id: NodeId) {
        let mut inner = self.0.borrow_mut();
        inner.in_flight = inner.in_flight.saturating_sub(1);
        if let Some(t) = inner.tracked.get_mut(&id) {
            t.unreadable = true;
        }
    }

    /// Ends a sample that cost the page `cost` ms before `since` (plus what ran since); `sent`
    /// is the size of the picture sent, if it changed. Sets the element's next sample time.
    fn finish(&self, id: NodeId, since: f64, cost: f64, sent: Option<f64>) {
        let now = perf_now();
        let cost = cost + (now - since);
        if DEBUG_COST {
            web_sys::console::log_1(&format!("tabreel-canvas-cost {{\"target\":{id},\"ms\":{cost:.3},\"sent\":{}}}", sent.unwrap_or(0.0)).into());
        }
        let mut inner = self.0.borrow_mut();
        inner.in_flight = inner.in_flight.saturating_sub(1);
        if let Some(t) = inner.tracked.get_mut(&id) {
            t.interval = match sent {
                Some(_) => MIN_INTERVAL_MS,
                None => (t.interval * 2.0).min(MAX_INTERVAL_MS),
            };
            let by_cost = cost * COST_SHARE;
            let by_bytes = sent.map_or(0.0, |b| b / BYTES_PER_SECOND * 1000.0);
            t.interval = t.interval.max(by_cost).max(by_bytes);
            t.next_due = now + t.interval;
        }
    }
}
