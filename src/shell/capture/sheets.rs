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
//! A check visits at most [`CHECK_BUDGET`] owners and as many roots, taking turns, so a page with
//! thousands of `<style>` elements or shadow roots pays a bounded price per batch; what is newly
//! recorded is looked at at once. Not seen: changes inside a rule (`rule.style.color = …`, rules
//! inserted into an `@media` block), and a change that keeps the count and both end rules of a
//! sheet (a rule replaced in the middle) until something else changes that sheet.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CssRuleList, Element, Node};

use crate::core::cssom::{count_rules, rule_splice};
use crate::core::event::{EventData, NodeId, SheetRef, SheetRules};
use crate::core::ids::{IdMap, IdSet};
use crate::shell::capture::dom::Recorded;

/// Owners, and roots, a periodic check visits at most (new ones are always looked at).
pub const CHECK_BUDGET: usize = 64;

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
    sheet: JsValue,
    probe: Probe,
    rules: Vec<JsValue>,
}

/// Watches the CSSOM of one recorded page.
#[derive(Default)]
pub struct SheetWatch {
    owners: IdMap<NodeId, Owner>,
    owner_order: Vec<NodeId>,
    owner_cursor: usize,
    roots: IdMap<NodeId, Root>,
    root_order: Vec<NodeId>,
    root_cursor: usize,
    constructed: IdMap<u32, Constructed>,
    /// Constructed sheet → its id, for the sheets in `constructed`.
    sheet_ids: Option<js_sys::WeakMap>,
    next_sheet: u32,
}

impl SheetWatch {
    /// Starts watching what was just serialised, and returns the events that give the replay
    /// its CSSOM now (to follow the event that recorded those nodes).
    pub fn add(&mut self, recorded: &Recorded, events: &mut Vec<EventData>) {
        for (id, el) in &recorded.sheet_owners {
            let link = el.local_name() == "link";
            let owner = Owner { el: el.clone(), sheet: JsValue::NULL, probe: None, rules: None, link };
            if self.owners.insert(*id, owner).is_none() {
                self.owner_order.push(*id);
            }
            self.check_owner(*id, events);
        }
        for (id, node) in &recorded.roots {
            let root = Root { node: node.clone(), sheets: Vec::new(), ids: Vec::new() };
            if self.roots.insert(*id, root).is_none() {
                self.root_order.push(*id);
            }
            self.check_root(*id, events);
        }
    }

    /// Records what changed since the last check: constructed sheets (all of them), then up to
    /// [`CHECK_BUDGET`] owners and roots. `id_of` tells which nodes are still recorded under the
    /// id they were watched with. Returns the roots that left the document (no longer watched).
    pub fn check(&mut self, id_of: impl Fn(&Node) -> Option<NodeId>, events: &mut Vec<EventData>) -> Vec<NodeId> {
        let mut ids: Vec<u32> = self.constructed.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.check_constructed(id, events);
        }
        let mut gone_owners = Vec::new();
        for _ in 0..self.owner_order.len().min(CHECK_BUDGET) {
            self.owner_cursor %= self.owner_order.len();
            let id = self.owner_order[self.owner_cursor];
            self.owner_cursor += 1;
            let Some(owner) = self.owners.get(&id) else { continue };
            if !owner.el.is_connected() || id_of(owner.el.as_ref()) != Some(id) {
                gone_owners.push(id);
                continue;
            }
            self.check_owner(id, events);
        }
        for id in &gone_owners {
            self.owners.remove(id);
        }
        if !gone_owners.is_empty() {
            self.owner_order.retain(|id| self.owners.contains_key(id));
        }
        let mut gone_roots = Vec::new();
        for _ in 0..self.root_order.len().min(CHECK_BUDGET) {
            self.root_cursor %= self.root_order.len();
            let id = self.root_order[self.root_cursor];
            self.root_cursor += 1;
            let Some(root) = self.roots.get(&id) else { continue };
            if !root.node.is_connected() || id_of(&root.node) != Some(id) {
                gone_roots.push(id);
                continue;
            }
            self.check_root(id, events);
        }
        if !gone_roots.is_empty() {
            for id in &gone_roots {
                self.roots.remove(id);
            }
            self.root_order.retain(|id| self.roots.contains_key(id));
            self.forget_unadopted();
        }
        gone_roots
    }

    fn check_owner(&mut self, id: NodeId, events: &mut Vec<EventData>) {
        let Some(owner) = self.owners.get_mut(&id) else { return };
        let sheet = js_sys::Reflect::get(&owner.el, &"sheet".into()).unwrap_or(JsValue::NULL);
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
                events.push(whole(SheetRef::Owner(id), &rules));
                owner.rules = Some(rules);
            }
            return;
        }
        if owner.probe.as_ref() == Some(&probe) {
            return;
        }
        owner.probe = Some(probe);
        let rules = rule_objects(&list);
        match owner.rules.take() {
            Some(old) => events.extend(splice(SheetRef::Owner(id), &old, &rules)),
            None => events.push(whole(SheetRef::Owner(id), &rules)),
        }
        owner.rules = Some(rules);
    }

    fn check_root(&mut self, id: NodeId, events: &mut Vec<EventData>) {
        let Some(root) = self.roots.get(&id) else { return };
        let Ok(adopted) = js_sys::Reflect::get(&root.node, &"adoptedStyleSheets".into()) else { return };
        let len = js_sys::Reflect::get(&adopted, &"length".into()).ok().and_then(|l| l.as_f64()).unwrap_or(0.0) as u32;
        if len == 0 && root.sheets.is_empty() {
            return;
        }
        let sheets: Vec<JsValue> = (0..len).filter_map(|i| js_sys::Reflect::get_u32(&adopted, i).ok()).collect();
        if sheets == root.sheets {
            return;
        }
        let ids: Vec<u32> = sheets.iter().filter_map(|s| self.sheet_id(s, events)).collect();
        let root = self.roots.get_mut(&id).expect("looked up above");
        root.sheets = sheets;
        if root.ids != ids {
            root.ids = ids.clone();
            events.push(EventData::Adopted { target: id, sheets: ids });
            self.forget_unadopted();
        }
    }

    /// The id of a constructed sheet, recording it (all its rules) the first time it is seen.
    fn sheet_id(&mut self, sheet: &JsValue, events: &mut Vec<EventData>) -> Option<u32> {
        let ids = self.sheet_ids.get_or_insert_with(js_sys::WeakMap::new);
        if !sheet.is_object() {
            return None;
        }
        let sheet_obj: &js_sys::Object = sheet.unchecked_ref();
        if let Some(id) = ids.get(sheet_obj).as_f64() {
            return Some(id as u32);
        }
        let list = rule_list(sheet)?;
        self.next_sheet += 1;
        let id = self.next_sheet;
        ids.set(sheet_obj, &JsValue::from_f64(id as f64));
        let rules = rule_objects(&list);
        events.push(whole(SheetRef::Sheet(id), &rules));
        self.constructed.insert(id, Constructed { sheet: sheet.clone(), probe: probe(&list), rules });
        Some(id)
    }

    fn check_constructed(&mut self, id: u32, events: &mut Vec<EventData>) {
        let Some(c) = self.constructed.get_mut(&id) else { return };
        let Some(list) = rule_list(&c.sheet) else { return };
        let now = probe(&list);
        if now == c.probe {
            return;
        }
        let rules = rule_objects(&list);
        events.extend(splice(SheetRef::Sheet(id), &c.rules, &rules));
        c.probe = now;
        c.rules = rules;
    }

    /// Stops watching constructed sheets that no watched root adopts any more (a sheet adopted
    /// again later gets a new id and is sent again).
    fn forget_unadopted(&mut self) {
        let used: IdSet<u32> = self.roots.values().flat_map(|r| r.ids.iter().copied()).collect();
        let ids = &self.sheet_ids;
        self.constructed.retain(|id, c| {
            let keep = used.contains(id);
            if let (false, Some(ids)) = (keep, ids) {
                ids.delete(c.sheet.unchecked_ref());
            }
            keep
        });
    }

    /// How many sheet owners, roots and constructed sheets are watched (for tests and logs).
    pub fn watched(&self) -> (usize, usize, usize) {
        (self.owners.len(), self.roots.len(), self.constructed.len())
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

fn rule_objects(list: &CssRuleList) -> Vec<JsValue> {
    (0..list.length()).map(|i| list.item(i).map(JsValue::from).unwrap_or(JsValue::NULL)).collect()
}

fn css_text(rule: &JsValue) -> String {
    rule.dyn_ref::<web_sys::CssRule>().map(|r| r.css_text()).unwrap_or_else(|| {
        // Rules of another realm fail `instanceof`; read the property itself.
        js_sys::Reflect::get(rule, &"cssText".into()).ok().and_then(|t| t.as_string()).unwrap_or_default()
    })
}

/// All of a sheet's rules, replacing whatever the replay has.
fn whole(sheet: SheetRef, rules: &[JsValue]) -> EventData {
    EventData::SheetRules(SheetRules { sheet, start: 0, deleted: None, rules: rules.iter().map(css_text).collect() })
}

/// The one splice from `old` to `new` rule objects, if they differ.
fn splice(sheet: SheetRef, old: &[JsValue], new: &[JsValue]) -> Option<EventData> {
    let s = rule_splice(old.len(), new.len(), |i, j| old[i] == new[j])?;
    let rules = new[s.start..s.start + s.inserted].iter().map(css_text).collect();
    Some(EventData::SheetRules(SheetRules { sheet, start: s.start as u32, deleted: Some(s.deleted as u32), rules }))
}
