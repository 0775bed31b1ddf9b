//! Shows the recorded pointer and focus in the replay frame, which has no interaction state of
//! its own.
//!
//! The frame takes no pointer events and never has focus, so `:hover`, `:active` and the
//! `:focus` family can never match in it. The core rewrites them in recorded CSS into attribute
//! selectors ([`crate::core::css`]); this sets those attributes, as the browser would have set
//! the pseudo-classes: hover on the element under the recorded pointer (what `elementFromPoint`
//! finds, so `pointer-events: none` is honoured, looking inside open shadow roots as hit testing
//! does) and its ancestors in the flat tree (through assigned slots and shadow hosts, as
//! `:hover` and `:focus-within` follow them), active on the same chain for a
//! moment after a recorded click, focus on the recorded focused element and on the shadow hosts
//! around it (a host matches `:focus` while an element of its shadow tree has focus),
//! focus-visible on the focused element when the core says the ring shows, and focus-within on
//! it and its ancestors. They are recomputed whenever the renderer settles after operations
//! (layout, scrolling and node moves change what is under the pointer): a hit test lays the
//! documents out first, so after a seek that waits for the next animation frame, where the layout
//! is due anyway. The attributes are `data-tabreel-*`, which the DOM comparison leaves out like
//! every other attribute the replay adds.

use wasm_bindgen::prelude::*;
use web_sys::{Document, Element};

use crate::core::css::{ACTIVE_ATTR, FOCUS_ATTR, FOCUS_VISIBLE_ATTR, FOCUS_WITHIN_ATTR, HOVER_ATTR};

/// How long a click shows `:active` (a click's button is down about this long).
const ACTIVE_MS: i32 = 120;

/// The elements that carry each attribute now.
#[derive(Default)]
pub struct Marks {
    hover: Vec<Element>,
    focus: Vec<Element>,
    focus_visible: Vec<Element>,
    focus_within: Vec<Element>,
}

impl Marks {
    /// Forgets every mark (the document was replaced).
    pub fn forget(&mut self) {
        *self = Marks::default();
    }

    /// Marks hover under `pointer` (frame viewport coordinates) and the `focused` element.
    pub fn show(&mut self, doc: &Document, pointer: Option<(f64, f64)>, focused: Option<(Element, bool)>) {
        let hovered = pointer.and_then(|(x, y)| element_at(doc, x, y)).map(chain).unwrap_or_default();
        set(&mut self.hover, hovered, HOVER_ATTR);
        let (focus, visible) = match focused {
            Some((el, visible)) => (Some(el), visible),
            None => (None, false),
        };
        set(&mut self.focus_within, focus.clone().map(chain).unwrap_or_default(), FOCUS_WITHIN_ATTR);
        set(&mut self.focus_visible, focus.iter().filter(|_| visible).cloned().collect(), FOCUS_VISIBLE_ATTR);
        set(&mut self.focus, focus.map(with_hosts).unwrap_or_default(), FOCUS_ATTR);
    }

    /// Marks the elements under a click as active for a moment.
    pub fn press(&self, doc: &Document, x: f64, y: f64) -> Option<()> {
        let pressed = chain(element_at(doc, x, y)?);
        for el in &pressed {
            el.set_attribute(ACTIVE_ATTR, "").ok()?;
        }
        let release = Closure::once_into_js(move || {
            for el in pressed {
                let _ = el.remove_attribute(ACTIVE_ATTR);
            }
        });
        web_sys::window()?.set_timeout_with_callback_and_timeout_and_arguments_0(release.unchecked_ref(), ACTIVE_MS).ok()?;
        Some(())
    }
}

/// Deepest shadow trees a hit test looks into (a bound against hostile nesting).
const MAX_SHADOW_DEPTH: usize = 64;

/// The element under (x, y): the document's answer, then, while that is the host of an open
/// shadow root, its root's answer (the replayed pages' shadow roots are there since they were
/// recorded). A root's `elementsFromPoint` is asked, not `elementFromPoint`: over a slotted
/// text, the latter answers the host (the text's parent in the DOM) where the first of the
/// former is the slot, as the browser's hover goes (the text's parent in the flat tree).
fn element_at(doc: &Document, x: f64, y: f64) -> Option<Element> {
    let mut el = doc.element_from_point(x as f32, y as f32)?;
    for _ in 0..MAX_SHADOW_DEPTH {
        let inner = el.shadow_root().map(|root| root.elements_from_point(x as f32, y as f32).get(0)).filter(|e| e.is_object());
        match inner.map(JsCast::unchecked_into::<Element>) {
            Some(inner) if inner != el => el = inner,
            _ => break,
        }
    }
    Some(el)
}

/// `el` and its ancestors in the flat tree: a slotted element's next is its slot, a shadow
/// root's top element's next is the host.
fn chain(el: Element) -> Vec<Element> {
    let mut out = Vec::new();
    let mut cur = Some(el);
    while let Some(e) = cur {
        let slot = js_sys::Reflect::get(&e, &JsValue::from_str("assignedSlot")).ok().filter(|s| !s.is_null() && !s.is_undefined());
        cur = match slot {
            Some(slot) => Some(slot.unchecked_into()),
            None => e.parent_element().or_else(|| {
                let parent = e.parent_node()?;
                let host = js_sys::Reflect::get(&parent, &JsValue::from_str("host")).ok()?;
                (!host.is_null() && !host.is_undefined()).then(|| host.unchecked_into())
            }),
        };
        out.push(e);
    }
    out
}

/// The shadow root `el` is in, if it is in one.
pub fn shadow_root_of(el: &Element) -> Option<web_sys::Node> {
    let root = el.get_root_node();
    let host = js_sys::Reflect::get(&root, &JsValue::from_str("host")).ok()?;
    (root.node_type() == web_sys::Node::DOCUMENT_FRAGMENT_NODE && host.is_object()).then_some(root)
}

/// `el` and the hosts of the shadow trees it is in, innermost first.
fn with_hosts(el: Element) -> Vec<Element> {
    let mut out = vec![el];
    for _ in 0..MAX_SHADOW_DEPTH {
        let Some(root) = shadow_root_of(&out[out.len() - 1]) else { break };
        out.push(root.unchecked_into::<web_sys::ShadowRoot>().host());
    }
    out
}

/// Moves `attr` from the elements in `old` to those in `new`, touching only what changes.
fn set(old: &mut Vec<Element>, new: Vec<Element>, attr: &str) {
    for e in old.iter().filter(|e| !new.contains(e)) {
        let _ = e.remove_attribute(attr);
    }
    for e in new.iter().filter(|e| !e.has_attribute(attr)) {
        let _ = e.set_attribute(attr, "");
    }
    *old = new;
}
