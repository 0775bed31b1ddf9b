//! Reads what the recorder records about media elements and the selection: a `<video>` or
//! `<audio>` element's playback state, and the document's selection as node ids and offsets.

use web_sys::{Document, Element};

use crate::core::coalesce::DomTree;
use crate::core::event::{MediaState, SelectionPoint};
use crate::shell::capture::dom::PageDom;

/// Media events after which the element's state is recorded (they do not bubble; the recorder
/// listens for them on the document in the capture phase).
pub const MEDIA_EVENTS: &[&str] = &["play", "pause", "seeked", "ratechange", "volumechange", "ended"];

/// The playback state of a media element.
pub fn media_state(el: &Element) -> MediaState {
    let get = |k: &str| js_sys::Reflect::get(el, &k.into()).ok();
    let num = |k: &str, default: f64| get(k).and_then(|v| v.as_f64()).filter(|v| v.is_finite()).unwrap_or(default);
    let flag = |k: &str, default: bool| get(k).and_then(|v| v.as_bool()).unwrap_or(default);
    MediaState { paused: flag("paused", true), time: num("currentTime", 0.0), rate: num("playbackRate", 1.0), muted: flag("muted", false), volume: num("volume", 1.0).clamp(0.0, 1.0) }
}

/// Whether a media element is in a state the replay would not show by default.
pub fn media_is_notable(state: &MediaState) -> bool {
    !state.paused || state.muted || state.volume != 1.0 || state.rate != 1.0 || state.time > 0.0
}

/// The document's selection as recorded points: `None` when nothing is selected (or just a
/// caret), or when an end is in a node the recording does not have.
pub fn selection(document: &Document, dom: &mut PageDom) -> Option<(SelectionPoint, SelectionPoint)> {
    let selection = document.get_selection().ok()??;
    if selection.is_collapsed() {
        return None;
    }
    let anchor = SelectionPoint { node: dom.id(&selection.anchor_node()?)?, offset: selection.anchor_offset() };
    let focus = SelectionPoint { node: dom.id(&selection.focus_node()?)?, offset: selection.focus_offset() };
    Some((anchor, focus))
}
