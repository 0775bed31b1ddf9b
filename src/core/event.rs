//! The event vocabulary shared by the recorder, the store, the exporter and the player.
//!
//! Everything a recording contains is an [`Event`]: a timestamp, the page (navigation) it belongs
//! to and one [`EventData`]. The recorder produces these, the store keeps them in compressed
//! chunks, the session file carries them, and the player applies them to a virtual DOM. Keeping
//! one vocabulary (as rrweb does) means there is no translation layer to drift.

use serde::{Deserialize, Serialize};

/// Identifies a recorded DOM node within one page of a session. Ids are assigned by the recorder
/// in the order it first sees nodes, starting at 1; they are never reused within a page.
pub type NodeId = u32;

/// Identifies a frame of the recorded tab: Chrome's `frameId`, 0 for the tab's top-level
/// document, unique within the tab for every other frame (an `<iframe>`'s browsing context).
/// Each frame's document is recorded by its own recorder, with its own node ids.
pub type FrameId = u32;

/// One thing that happened in a recorded tab.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Wall-clock time in epoch milliseconds (fractional), as read in the recorded page.
    pub t: f64,
    /// Which page of the session (0 for the first document, +1 for every navigation).
    pub page: u32,
    /// Which frame of the page the event happened in (0, the top-level document, is left out).
    #[serde(default, skip_serializing_if = "is_top")]
    pub frame: FrameId,
    /// What happened.
    pub data: EventData,
}

fn is_top(frame: &FrameId) -> bool {
    *frame == 0
}

/// What happened, by kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventData {
    /// The whole document at one moment: the start of every page.
    Snapshot(Snapshot),
    /// The net effect of the DOM mutations of one task.
    Mutation(MutationBatch),
    /// The pointer moved to (x, y) in viewport CSS pixels.
    PointerMove {
        /// Horizontal position.
        x: f64,
        /// Vertical position.
        y: f64,
    },
    /// A click at (x, y) in viewport CSS pixels on `target`.
    Click {
        /// The clicked node, when it is a recorded node.
        target: Option<NodeId>,
        /// Horizontal position.
        x: f64,
        /// Vertical position.
        y: f64,
    },
    /// An element (or the document, by its own id) scrolled to (x, y).
    Scroll {
        /// The scrolled node; the document's id stands for the viewport.
        target: NodeId,
        /// scrollLeft.
        x: f64,
        /// scrollTop.
        y: f64,
    },
    /// A form control's state changed (typing, selecting, checking).
    Input {
        /// The control.
        target: NodeId,
        /// Its new state.
        state: FormState,
    },
    /// Focus moved to `target` (or left the document when `None`).
    Focus {
        /// The focused element.
        target: Option<NodeId>,
    },
    /// The viewport was resized.
    Viewport {
        /// innerWidth in CSS pixels.
        width: u32,
        /// innerHeight in CSS pixels.
        height: u32,
    },
    /// Rules of a stylesheet that lives in the CSSOM changed (see [`SheetRules`]).
    SheetRules(SheetRules),
    /// The `<iframe>`/`<frame>` element `host` of this document shows the document of frame
    /// `child` (recorded by that frame's own recorder, in events carrying its [`FrameId`]), from
    /// now until `host` is removed.
    FrameHost {
        /// The frame element.
        host: NodeId,
        /// The frame it shows.
        child: FrameId,
    },
    /// The `adoptedStyleSheets` of a document or shadow root are now these constructed sheets.
    Adopted {
        /// The document or shadow root.
        target: NodeId,
        /// The sheets in order, by the ids of their [`SheetRules`] events (`SheetRef::Sheet`).
        sheets: Vec<u32>,
    },
    /// A new picture of a `<canvas>` (or of a `<video>`'s current frame), stored once per
    /// session as a blob named by its content hash (see [`crate::core::blob`]).
    CanvasFrame {
        /// The canvas or video element.
        target: NodeId,
        /// The picture's blob.
        hash: crate::core::blob::BlobHash,
        /// Its width in pixels (the canvas's bitmap, the video's intrinsic size).
        width: u32,
        /// Its height in pixels.
        height: u32,
    },
    /// A `<video>` or `<audio>` element's playback state, recorded on its media events.
    Media {
        /// The media element.
        target: NodeId,
        /// Its state.
        #[serde(flatten)]
        state: MediaState,
    },
    /// The document's text selection (`None` anchor: nothing selected, or just a caret).
    Selection {
        /// Where the selection starts, if there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        anchor: Option<SelectionPoint>,
        /// Where it ends (the side that moves when it is extended).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        focus: Option<SelectionPoint>,
    },
}

/// A position in the document: a node and an offset in it (characters in a text node, children
/// in an element), as `Selection.anchorNode`/`anchorOffset` give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionPoint {
    /// The node.
    pub node: NodeId,
    /// The offset in it.
    pub offset: u32,
}

/// The playback state of a media element.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaState {
    /// Whether it is paused.
    pub paused: bool,
    /// `currentTime`, seconds.
    pub time: f64,
    /// `playbackRate`.
    pub rate: f64,
    /// Whether it is muted.
    pub muted: bool,
    /// `volume`, 0 to 1.
    pub volume: f64,
}

/// Rules of a stylesheet that are not in any recorded text: a `<style>` (or captured `<link>`)
/// whose sheet was changed with `insertRule`/`deleteRule`, or a constructed sheet (`new
/// CSSStyleSheet`, `replaceSync`) that documents and shadow roots adopt. Rules `start..start +
/// deleted` (to the end when `deleted` is absent) are replaced by `rules`: the first event for a
/// sheet replaces everything, later ones carry only what changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SheetRules {
    /// Which sheet.
    #[serde(flatten)]
    pub sheet: SheetRef,
    /// Index of the first rule replaced.
    pub start: u32,
    /// How many rules are replaced; all from `start` on when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<u32>,
    /// The new rules, one `cssText` each.
    pub rules: Vec<String>,
}

/// A stylesheet, as [`SheetRules`] names it: `"owner": <node id>` or `"sheet": <sheet id>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SheetRef {
    /// The sheet of a recorded `<style>` or `<link>` element.
    Owner(NodeId),
    /// A constructed sheet, by an id the recorder gives it (per page, from 1).
    Sheet(u32),
}

/// Whether a shadow root is open (reachable from the page as `element.shadowRoot`) or closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShadowMode {
    /// `attachShadow({mode: "open"})`.
    Open,
    /// `attachShadow({mode: "closed"})`.
    Closed,
}

/// A full serialisation of a document, taken when a page starts being recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The document's URL.
    pub url: String,
    /// The document's title.
    pub title: String,
    /// Viewport width in CSS pixels.
    pub width: u32,
    /// Viewport height in CSS pixels.
    pub height: u32,
    /// The document node and everything below it, in document order (see [`SerializedNode`]).
    pub nodes: Vec<SerializedNode>,
    /// Scroll positions of every scrolled element (and the document) at snapshot time.
    pub scrolls: Vec<ScrollPosition>,
    /// The focused element at snapshot time.
    pub focus: Option<NodeId>,
}

/// Where one node was scrolled to.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScrollPosition {
    /// The scrolled node (the document's id for the viewport).
    pub target: NodeId,
    /// scrollLeft.
    pub x: f64,
    /// scrollTop.
    pub y: f64,
}

/// One DOM node. A subtree is a `Vec<SerializedNode>` in document (pre-)order: the first entry is
/// the subtree's root (no `parent`), every other entry names its parent, which comes before it,
/// and siblings appear in order. Flat lists keep every reader and writer free of recursion, so a
/// DOM nested thousands deep, or a hostile file, cannot exhaust a stack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SerializedNode {
    /// The node's id.
    pub id: NodeId,
    /// The parent's id; `None` for the root of the subtree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<NodeId>,
    /// What kind of node it is, with its content.
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// The kinds of node a recording carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    /// The document node.
    Document,
    /// `<!DOCTYPE …>`.
    Doctype {
        /// The doctype's name (`html`).
        name: String,
        /// Its public id (usually empty).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        public_id: String,
        /// Its system id (usually empty).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        system_id: String,
    },
    /// An element.
    Element(ElementNode),
    /// A text node.
    Text {
        /// Its data.
        text: String,
    },
    /// A comment.
    Comment {
        /// Its data.
        text: String,
    },
    /// The shadow root of the element that is its parent in the flat list. It comes before the
    /// host's other children, and the nodes inside it name it as their parent.
    ShadowRoot {
        /// Open or closed.
        mode: ShadowMode,
    },
}

/// An element, its attributes, live state and children.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElementNode {
    /// Tag name, lower case for HTML elements, as written for others.
    pub tag: String,
    /// Namespace when it is not HTML (SVG, MathML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ns: Option<String>,
    /// Attributes in document order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<(String, String)>,
    /// Live form state (value, checked) where it is not what the attributes say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<FormState>,
    /// The text of a linked stylesheet, when it was readable at record time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub css: Option<String>,
}

/// The live state of a form control.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FormState {
    /// A text-like value (input, textarea, select).
    Value {
        /// The value.
        value: String,
    },
    /// A checkbox or radio button.
    Checked {
        /// Whether it is checked.
        checked: bool,
    },
    /// A sensitive field (a password) whose value is never recorded. `filled` tells the player
    /// whether to draw a fixed placeholder; the length is never kept.
    Masked {
        /// Whether the field held anything.
        filled: bool,
    },
}

/// The net effect of the DOM mutations delivered in one MutationObserver callback.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MutationBatch {
    /// Nodes removed from their parents, applied first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removes: Vec<Removal>,
    /// Subtrees inserted, applied in order after the removals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adds: Vec<Addition>,
    /// Attribute changes on nodes that were already recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attrs: Vec<AttributeChange>,
    /// Text changes on text or comment nodes that were already recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub texts: Vec<TextChange>,
}

impl MutationBatch {
    /// True when the batch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.removes.is_empty() && self.adds.is_empty() && self.attrs.is_empty() && self.texts.is_empty()
    }
}

/// A node leaving its parent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    /// The parent it left.
    pub parent: NodeId,
    /// The node (its whole subtree goes with it).
    pub id: NodeId,
}

/// A subtree inserted into the document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Addition {
    /// The new parent.
    pub parent: NodeId,
    /// The sibling it is inserted before; `None` appends.
    pub before: Option<NodeId>,
    /// The inserted subtree, as it was at the end of the task (its root first).
    pub nodes: Vec<SerializedNode>,
}

/// An attribute set or removed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// The element.
    pub id: NodeId,
    /// Attribute name.
    pub name: String,
    /// New value, `None` when removed.
    pub value: Option<String>,
}

/// New data of a text or comment node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TextChange {
    /// The node.
    pub id: NodeId,
    /// Its new data.
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        Event {
            t: 1_700_000_000_123.5,
            page: 1, frame: 0,
            data: EventData::Snapshot(Snapshot {
                url: "http://127.0.0.1/".into(),
                title: "t".into(),
                width: 800,
                height: 600,
                nodes: vec![
                    SerializedNode { id: 1, parent: None, kind: NodeKind::Document },
                    SerializedNode {
                        id: 2,
                        parent: Some(1),
                        kind: NodeKind::Doctype { name: "html".into(), public_id: String::new(), system_id: String::new() },
                    },
                    SerializedNode {
                        id: 3,
                        parent: Some(1),
                        kind: NodeKind::Element(ElementNode {
                            tag: "input".into(),
                            ns: None,
                            attrs: vec![("type".into(), "text".into())],
                            form: Some(FormState::Value { value: "héllo \"q\"".into() }),
                            css: None,
                        }),
                    },
                ],
                scrolls: vec![ScrollPosition { target: 1, x: 0.0, y: 120.0 }],
                focus: Some(3),
            }),
        }
    }

    #[test]
    fn events_round_trip_through_json() {
        let events = vec![
            sample(),
            Event { t: 2.0, page: 0, frame: 0, data: EventData::PointerMove { x: 1.5, y: 2.0 } },
            Event { t: 3.0, page: 0, frame: 0, data: EventData::Input { target: 3, state: FormState::Masked { filled: true } } },
            Event {
                t: 4.0,
                page: 0, frame: 0,
                data: EventData::Mutation(MutationBatch {
                    removes: vec![Removal { parent: 1, id: 3 }],
                    adds: vec![],
                    attrs: vec![AttributeChange { id: 2, name: "class".into(), value: None }],
                    texts: vec![TextChange { id: 4, text: "x".into() }],
                }),
            },
        ];
        let json = serde_json::to_string(&events).unwrap();
        let back: Vec<Event> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, events);
    }

    #[test]
    fn flat_nodes_serialise_compactly() {
        let n = SerializedNode { id: 7, parent: Some(3), kind: NodeKind::Text { text: "x".into() } };
        assert_eq!(serde_json::to_string(&n).unwrap(), r#"{"id":7,"parent":3,"type":"text","text":"x"}"#);
    }

    #[test]
    fn unknown_event_kind_is_an_error() {
        let err = serde_json::from_str::<Event>(r#"{"t":1,"page":0,"data":{"kind":"teleport"}}"#).unwrap_err();
        assert!(err.to_string().contains("teleport"), "{err}");
    }

    #[test]
    fn shadow_roots_and_sheet_events_have_a_flat_compact_form() {
        let root = SerializedNode { id: 9, parent: Some(4), kind: NodeKind::ShadowRoot { mode: ShadowMode::Closed } };
        assert_eq!(serde_json::to_string(&root).unwrap(), r#"{"id":9,"parent":4,"type":"shadow_root","mode":"closed"}"#);
        let rules = EventData::SheetRules(SheetRules { sheet: SheetRef::Owner(12), start: 3, deleted: Some(1), rules: vec![".a{color:red}".into()] });
        assert_eq!(serde_json::to_string(&rules).unwrap(), r#"{"kind":"sheet_rules","owner":12,"start":3,"deleted":1,"rules":[".a{color:red}"]}"#);
        let all = EventData::SheetRules(SheetRules { sheet: SheetRef::Sheet(2), start: 0, deleted: None, rules: vec![] });
        assert_eq!(serde_json::to_string(&all).unwrap(), r#"{"kind":"sheet_rules","sheet":2,"start":0,"rules":[]}"#);
        let adopted = EventData::Adopted { target: 9, sheets: vec![2, 1] };
        assert_eq!(serde_json::to_string(&adopted).unwrap(), r#"{"kind":"adopted","target":9,"sheets":[2,1]}"#);
        for data in [rules, all, adopted] {
            let event = Event { t: 1.0, page: 0, frame: 0, data };
            let back: Event = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
            assert_eq!(back, event);
        }
        let back: SerializedNode = serde_json::from_str(&serde_json::to_string(&root).unwrap()).unwrap();
        assert_eq!(back, root);
    }

    #[test]
    fn frames_media_and_selection_have_a_flat_compact_form() {
        let hash = "ab".repeat(32);
        let frame = EventData::CanvasFrame { target: 7, hash: hash.clone(), width: 300, height: 150 };
        assert_eq!(serde_json::to_string(&frame).unwrap(), format!(r#"{{"kind":"canvas_frame","target":7,"hash":"{hash}","width":300,"height":150}}"#));
        let media = EventData::Media { target: 3, state: MediaState { paused: false, time: 1.5, rate: 2.0, muted: true, volume: 0.5 } };
        assert_eq!(serde_json::to_string(&media).unwrap(), r#"{"kind":"media","target":3,"paused":false,"time":1.5,"rate":2.0,"muted":true,"volume":0.5}"#);
        let sel = EventData::Selection { anchor: Some(SelectionPoint { node: 4, offset: 2 }), focus: Some(SelectionPoint { node: 9, offset: 0 }) };
        assert_eq!(serde_json::to_string(&sel).unwrap(), r#"{"kind":"selection","anchor":{"node":4,"offset":2},"focus":{"node":9,"offset":0}}"#);
        let none = EventData::Selection { anchor: None, focus: None };
        assert_eq!(serde_json::to_string(&none).unwrap(), r#"{"kind":"selection"}"#);
        for data in [frame, media, sel, none] {
            let event = Event { t: 1.0, page: 0, frame: 0, data };
            let back: Event = serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
            assert_eq!(back, event);
        }
        let missing = r#"{"t":1,"page":0,"data":{"kind":"media","target":3,"paused":true}}"#;
        assert!(serde_json::from_str::<Event>(missing).is_err());
    }

    #[test]
    fn a_sheet_event_must_name_exactly_one_sheet() {
        let neither = r#"{"t":1,"page":0,"data":{"kind":"sheet_rules","start":0,"rules":[]}}"#;
        assert!(serde_json::from_str::<Event>(neither).is_err());
        let bad_mode = r#"{"id":1,"type":"shadow_root","mode":"ajar"}"#;
        assert!(serde_json::from_str::<SerializedNode>(bad_mode).is_err());
    }
}
