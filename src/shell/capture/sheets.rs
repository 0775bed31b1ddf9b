//! Stylesheets that live only in the CSSOM: rules inserted into (or deleted from) the sheet of a
//! `<style>` or `<link>`, and constructed sheets (`new CSSStyleSheet`, `replaceSync`) that the
//! document and shadow roots adopt. CSS-in-JS libraries and Lit components style pages this way;
//! none of it is in the DOM the MutationObserver sees.
//!
//! The capture runs in the content script's isolated world and cannot patch the page's
//! `CSSStyleSheet.prototype`, so [`SheetWatch`] compares instead, cheaply:
//! - a `<style>` is recorded with its text; when first seen (and whenever its sheet object is
//!   replaced, as a text change does), its sheet's rule count is compared with what its text
//!   declares (`core::cssom::count_rules`), and its rules are recorded if the sheet has more;
//! - afterwards, each check compares the sheet's rule count and its first and last rule objects
//!   with the last ones seen, and reads rules only when they differ: the replay gets a splice
//!   found by comparing rule objects (`core::cssom::rule_splice`), not the whole sheet again;
//! - each root's `adoptedStyleSheets` is compared with the sheets it held, by identity; a
//!   constructed sheet gets a per-page id and its rules are sent once, then as splices, however
//!   many shadow roots adopt it (Lit shares one sheet among all instances of a component).
//!
//! Sheets are checked at every check, [`CHECK_BUDGET`] at a time, taking turns, and so is the
//! document's `adoptedStyleSheets`; shadow roots (whose adopted sheets seldom change once they
//! have been recorded) at most every [`ROOTS_EVERY_MS`], as many at a time. So a page with
//! thousands of `<style>` elements or shadow roots pays a bounded price per batch; what is newly
//! recorded is looked at at once, and everything when the recording stops. Not seen: changes inside
//! a rule (`rule.style.color = …`, rules inserted into an `@media` block), and a change that keeps
//! the count and both end rules of a sheet (a rule replaced in the middle) until something else
//! changes that sheet.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CssRuleList, Element, Node};

use crate::core::cssom::{count_rules, rule_splice};
use crate::core::event::{EventData, NodeId, SheetRef, SheetRules};
use crate::shell::capture::dom::Recorded;

/// Sheet owners, and roots, that a check visits at most (new ones are always looked at).
pub const CHECK_BUDGET: usize = 64;
/// Shortest interval between two visits of roots' `adoptedStyleSheets`.
pub const ROOTS_EVERY_MS: f64 = 1000.0;

/// What a sheet looked like when last read: enough to notice almost any change.
#[derive(Clone, PartialEq)]
struct Probe {
    len: u32,
    first: JsValue,
    last: JsValue,
}

/// A `<style>` or `<link>` and its sheet.
struct Owner {
    el: Element,
    /// The sheet object last seen (`null` before the first look).
    sheet: JsValue,
    probe: Option<Probe>,
    /// The rule objects as the replay holds them, when it holds this sheet's CSSOM rules (it
    /// holds the element's text, or its captured CSS, otherwise).
    rules: Option<Vec<JsValue>>,
    link: bool,
}

/// The document or a shadow root, and what it adopts.
struct Root {
    node: Node,
    sheets: Vec<JsValue>,
    ids: Vec<u32>,
}

/// A constructed sheet the replay has.
struct Constructed {
    id: u32,
    sheet: JsValue,
    probe: Probe,
    rules: Vec<JsValue>,
    /// How many watched roots adopt it (it is forgotten at 0).
    adopters: u32,
}

/// Property names, made into JS strings once (each conversion costs in the wasm2js build).
struct Keys {
    sheet: JsValue,
    adopted: JsValue,
    length: JsValue,
    css_text: JsValue,
}

/// Watched nodes with their ids, visited in turns. Plain vectors (with each node's index in a
/// `WeakMap`) rather than hash maps: the capture is lowered to JS, where every map type costs
/// code size.
struct Turns<T> {
    items: Vec<(NodeId, T)>,
    cursor: usize,
    /// Node → its index in `items`, so that a node watched again (recorded afresh, maybe under
    /// a new id) replaces its entry.
    index: js_sys::WeakMap,
}

impl<T> Turns<T> {
    fn new() -> Turns<T> {
        Turns { items: Vec::new(), cursor: 0, index: js_sys::WeakMap::new() }
    }

    /// Watches `node` as `id`; returns its index and the entry it replaces, if any.
    fn insert(&mut self, id: NodeId, node: &JsValue, item: T) -> (usize, Option<T>) {
        let key: &js_sys::Object = node.unchecked_ref();
        let known = self.index.get(key).as_f64().map(|i| i as usize).filter(|&i| i < self.items.len());
        match known {
            Some(i) => (i, Some(std::mem::replace(&mut self.items[i], (id, item)).1)),
            None => {
                self.index.set(key, &JsValue::from_f64(self.items.len() as f64));
                self.items.push((id, item));
                (self.items.len() - 1, None)
            }
        }
    }

    /// Indices of the next entries to visit, at most `budget`, in turns.
    fn next(&mut self, budget: usize) -> Vec<usize> {
        let n = self.items.len().min(budget);
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            self.cursor %= self.items.len();
            out.push(self.cursor);
            self.cursor += 1;
        }
        out
    }

    /// Stops watching the entries at `gone` (indices from [`Turns::next`]); `node` gives each
    /// entry's node, whose index changes when another entry takes its place.
    fn remove(&mut self, mut gone: Vec<usize>, node: impl Fn(&T) -> &JsValue) -> Vec<(NodeId, T)> {
        let mut removed = Vec::with_capacity(gone.len());
        // Highest index first, so that the entry moved into a freed place is never one to remove.
        while let Some(at) = gone.iter().enumerate().max_by_key(|(_, &i)| i).map(|(at, _)| at) {
            let i = gone.swap_remove(at);
            let entry = self.items.swap_remove(i);
            self.index.delete(node(&entry.1).unchecked_ref());
            if let Some(moved) = self.items.get(i) {
                self.index.set(node(&moved.1).unchecked_ref(), &JsValue::from_f64(i as f64));
            }
            removed.push(entry);
        }
        removed
    }
}

/// Watches the CSSOM of one recorded page.
pub struct SheetWatch {
    owners: Turns<Owner>,
    roots: Turns<Root>,
    /// When roots were last visited (`performance.now()`).
    roots_at: f64,
    /// The document (its adopted sheets are looked at every time).
    document: Option<(NodeId, Root)>,
    constructed: Vec<Constructed>,
    /// Constructed sheet → its id, for the sheets in `constructed`.
    sheet_ids: js_sys::WeakMap,
    next_sheet: u32,
    keys: Keys,
}

impl Default for SheetWatch {
    fn default() -> SheetWatch {
        SheetWatch {
            owners: Turns::new(),
            roots: Turns::new(),
            roots_at: f64::NEG_INFINITY,
            document: None,
            constructed: Vec::new(),
            sheet_ids: js_sys::WeakMap::new(),
            next_sheet: 0,
            keys: Keys { sheet: "sheet".into(), adopted: "adoptedStyleSheets".into(), length: "length".into(), css_text: "cssText".into() },
        }
    }
}

impl SheetWatch {
    /// Starts watching what was just serialised, and returns the events that give the replay
    /// its CSSOM now (to follow the event that recorded those nodes).
    pub fn add(&mut self, recorded: &Recorded, events: &mut Vec<EventData>) {
        for (id, el) in &recorded.sheet_owners {
            let link = el.local_name() == "link";
            let owner = Owner { el: el.clone(), sheet: JsValue::NULL, probe: None, rules: None, link };
            let (i, _) = self.owners.insert(*id, el.as_ref(), owner);
            self.check_owner(i, events);
        }
        for (id, node) in &recorded.roots {
            let root = Root { node: node.clone(), sheets: Vec::new(), ids: Vec::new() };
            if node.node_type() == Node::DOCUMENT_NODE {
                if let Some((_, old)) = self.document.replace((*id, root)) {
                    self.release(&old.ids);
                }
                self.check_root(None, events);
                continue;
            }
            let (i, old) = self.roots.insert(*id, node.as_ref(), root);
            if let Some(old) = old {
                self.release(&old.ids);
            }
            self.check_root(Some(i), events);
        }
    }

    /// Records what changed since the last check: constructed sheets (all of them), the
    /// document's adopted sheets, up to [`CHECK_BUDGET`] owners, and as many shadow roots if
    /// [`ROOTS_EVERY_MS`] have passed since they were last visited (`now` is
    /// `performance.now()`); everything when `all` (the recording is stopping). Returns the
    /// roots that left the document (no longer watched).
    pub fn check(&mut self, now: f64, all: bool, events: &mut Vec<EventData>) -> Vec<Node> {
        for i in 0..self.constructed.len() {
            self.check_constructed(i, events);
        }
        let budget = if all { usize::MAX } else { CHECK_BUDGET };
        self.check_root(None, events);
        let mut gone = Vec::new();
        for i in self.owners.next(budget) {
            if self.owners.items[i].1.el.is_connected() {
                self.check_owner(i, events);
            } else {
                gone.push(i);
            }
        }
        self.owners.remove(gone, |o| o.el.as_ref());
        if now - self.roots_at < ROOTS_EVERY_MS && !all {
            return Vec::new();
        }
        self.roots_at = now;
        let mut gone = Vec::new();
        for i in self.roots.next(budget) {
            if self.roots.items[i].1.node.is_connected() {
                self.check_root(Some(i), events);
            } else {
                gone.push(i);
            }
        }
        self.roots
            .remove(gone, |r| r.node.as_ref())
            .into_iter()
            .map(|(_, root)| {
                self.release(&root.ids);
                root.node
            })
            .collect()
    }

    /// The shadow roots watched (to stop listening to them when the recording stops).
    pub fn roots(&self) -> impl Iterator<Item = &Node> {
        self.roots.items.iter().map(|(_, r)| &r.node)
    }

    fn check_owner(&mut self, i: usize, events: &mut Vec<EventData>) {
        let (id, owner) = &mut self.owners.items[i];
        let id = *id;
        let sheet = js_sys::Reflect::get(&owner.el, &self.keys.sheet).unwrap_or(JsValue::NULL);
        let Some(list) = rule_list(&sheet) else {
            // No sheet (a link still loading, a style outside the document) or an unreadable
            // one (cross-origin): nothing the replay could be given.
            owner.sheet = sheet;
            owner.probe = None;
            return;
        };
        let probe = probe(&list);
        if sheet != owner.sheet || owner.probe.is_none() {
            // A new sheet object: the element's text (or link) was parsed again, here and in the
            // replay. Rules the replay held for the old one are replaced by the new ones.
            let first_look = owner.rules.is_none();
            owner.sheet = sheet;
            owner.probe = Some(probe.clone());
            let differs = !owner.link && probe.len > 0 && {
                let text = owner.el.text_content().unwrap_or_default();
                count_rules(&text) < probe.len as usize
            };
            if !first_look || differs {
                let rules = rule_objects(&list);
                events.push(whole(SheetRef::Owner(id), &rules, &self.keys));
                owner.rules = Some(rules);
            }
            return;
        }
        if owner.probe.as_ref() == Some(&probe) {
            return;
        }
        owner.probe = Some(probe);
        match owner.rules.as_mut() {
            Some(rules) => events.extend(splice(SheetRef::Owner(id), rules, &list, &self.keys)),
            None => {
                let rules = rule_objects(&list);
                events.push(whole(SheetRef::Owner(id), &rules, &self.keys));
                owner.rules = Some(rules);
            }
        }
    }


    fn check_root(&mut self, i: Option<usize>, events: &mut Vec<EventData>) {
        let Some((id, root)) = root_at(&mut self.document, &mut self.roots, i) else { return };
        let id = *id;
        let Ok(adopted) = js_sys::Reflect::get(&root.node, &self.keys.adopted) else { return };
        let len = js_sys::Reflect::get(&adopted, &self.keys.length).ok().and_then(|l| l.as_f64()).unwrap_or(0.0) as u32;
        if len == 0 && root.sheets.is_empty() {
            return;
        }
        let sheets: Vec<JsValue> = (0..len).filter_map(|i| js_sys::Reflect::get_u32(&adopted, i).ok()).collect();
        if sheets == root.sheets {
            return;
        }
        let ids: Vec<u32> = sheets.iter().filter_map(|s| self.sheet_id(s, events)).collect();
        let Some((_, root)) = root_at(&mut self.document, &mut self.roots, i) else { return };
        root.sheets = sheets;
        if root.ids != ids {
            let old = std::mem::replace(&mut root.ids, ids.clone());
            for c in self.constructed.iter_mut() {
                c.adopters += ids.iter().filter(|&&id| id == c.id).count() as u32;
            }
            self.release(&old);
            events.push(EventData::Adopted { target: id, sheets: ids });
        }
    }

    /// The id of a constructed sheet, recording it (all its rules) the first time it is seen.
    fn sheet_id(&mut self, sheet: &JsValue, events: &mut Vec<EventData>) -> Option<u32> {
        if !sheet.is_object() {
            return None;
        }
        let key: &js_sys::Object = sheet.unchecked_ref();
        if let Some(id) = self.sheet_ids.get(key).as_f64() {
            return Some(id as u32);
        }
        let list = rule_list(sheet)?;
        self.next_sheet += 1;
        let id = self.next_sheet;
        self.sheet_ids.set(key, &JsValue::from_f64(id as f64));
        let rules = rule_objects(&list);
        events.push(whole(SheetRef::Sheet(id), &rules, &self.keys));
        self.constructed.push(Constructed { id, sheet: sheet.clone(), probe: probe(&list), rules, adopters: 0 });
        Some(id)
    }

    /// One adopter fewer for each of these sheets; a sheet no watched root adopts any more is
    /// forgotten (adopted again later, it gets a new id and is sent again).
    fn release(&mut self, ids: &[u32]) {
        if ids.is_empty() {
            return;
        }
        for c in self.constructed.iter_mut() {
            c.adopters = c.adopters.saturating_sub(ids.iter().filter(|&&id| id == c.id).count() as u32);
        }
        let sheet_ids = &self.sheet_ids;
        self.constructed.retain(|c| {
            if c.adopters == 0 {
                sheet_ids.delete(c.sheet.unchecked_ref());
            }
            c.adopters > 0
        });
    }

    fn check_constructed(&mut self, i: usize, events: &mut Vec<EventData>) {
        let c = &mut self.constructed[i];
        let Some(list) = rule_list(&c.sheet) else { return };
        let now = probe(&list);
        if now == c.probe {
            return;
        }
        c.probe = now;
        events.extend(splice(SheetRef::Sheet(c.id), &mut c.rules, &list, &self.keys));
    }
}

/// The document (`None`) or the shadow root at index `i`.
fn root_at<'a>(document: &'a mut Option<(NodeId, Root)>, roots: &'a mut Turns<Root>, i: Option<usize>) -> Option<&'a mut (NodeId, Root)> {
    match i {
        None => document.as_mut(),
        Some(i) => roots.items.get_mut(i),
    }
}

/// A sheet's rules, if it is a sheet whose rules can be read.
fn rule_list(sheet: &JsValue) -> Option<CssRuleList> {
    if sheet.is_null() || sheet.is_undefined() {
        return None;
    }
    sheet.unchecked_ref::<web_sys::CssStyleSheet>().css_rules().ok() // cross-origin sheets throw
}

fn probe(list: &CssRuleList) -> Probe {
    let len = list.length();
    let item = |i: u32| list.item(i).map(JsValue::from).unwrap_or(JsValue::NULL);
    Probe { len, first: if len > 0 { item(0) } else { JsValue::NULL }, last: if len > 1 { item(len - 1) } else { JsValue::NULL } }
}

fn rule_at(list: &CssRuleList, i: usize) -> JsValue {
    list.item(i as u32).map(JsValue::from).unwrap_or(JsValue::NULL)
}

fn rule_objects(list: &CssRuleList) -> Vec<JsValue> {
    (0..list.length() as usize).map(|i| rule_at(list, i)).collect()
}

fn css_text(rule: &JsValue, keys: &Keys) -> String {
    js_sys::Reflect::get(rule, &keys.css_text).ok().and_then(|t| t.as_string()).unwrap_or_default()
}

/// All of a sheet's rules, replacing whatever the replay has.
fn whole(sheet: SheetRef, rules: &[JsValue], keys: &Keys) -> EventData {
    EventData::SheetRules(SheetRules { sheet, start: 0, deleted: None, rules: rules.iter().map(|r| css_text(r, keys)).collect() })
}

/// The one splice from the rule objects the replay has (`old`, updated) to those of `list`, if
/// they differ. Only compared and inserted rules are read.
fn splice(sheet: SheetRef, old: &mut Vec<JsValue>, list: &CssRuleList, keys: &Keys) -> Option<EventData> {
    let s = rule_splice(old.len(), list.length() as usize, |i, j| old[i] == rule_at(list, j))?;
    let inserted: Vec<JsValue> = (s.start..s.start + s.inserted).map(|j| rule_at(list, j)).collect();
    let rules = inserted.iter().map(|r| css_text(r, keys)).collect();
    old.splice(s.start..s.start + s.deleted, inserted);
    Some(EventData::SheetRules(SheetRules { sheet, start: s.start as u32, deleted: Some(s.deleted as u32), rules }))
}
