//! Cancels the stylesheet Chrome injects into extension pages, inside the replay frame.
//!
//! Chrome gives every document it counts as an extension page an author-level sheet
//! `body { font-family: <UI font>; font-size: 75% }` (CDP reports its origin as "injected"), placed
//! ahead of the document's own sheets. The replay frame counts, whatever document it holds
//! (measured: the initial `about:blank`, `document.open()`, a `blob:` document of the extension;
//! a document of any other origin would be out of the player's reach), and script cannot remove
//! the sheet. Left alone, it makes the body text of every replayed page that does not set its own
//! body font 12px in the UI font instead of 16px in the default font.
//!
//! Because it comes first, the same selector placed first among the document's own sheets beats
//! it and still loses to every rule the page has for `body`: [`RESET_RULE`] is inserted through
//! the CSSOM (the DOM is unchanged) at the start of the first sheet that applies, after its
//! `@import`s. A document without any sheet gets it in an adopted sheet instead (nothing of the
//! page's can lose to it there). What this cannot get right: a page rule for `body` that is less
//! specific than `body` (`:where(body)`, or `*` with a relative size) or in a cascade layer loses
//! to it, as it lost to Chrome's rule.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CssRule, CssStyleSheet, Document, Window};

/// Gives `body` its font back from the user agent (so it inherits from `html`, as without
/// Chrome's rule).
pub const RESET_RULE: &str = "body { font-family: revert; font-size: revert; }";

/// `CSSRule.type` values of the rules that must stay ahead of a style rule.
const CHARSET_RULE: u16 = 2;
const IMPORT_RULE: u16 = 3;
const NAMESPACE_RULE: u16 = 10;

/// Where the reset rule lives in the current frame document.
#[derive(Default)]
pub struct FontReset {
    rule: Option<CssRule>,
    adopted: Option<CssStyleSheet>,
}

impl FontReset {
    /// Forgets the rule (its document was replaced).
    pub fn forget(&mut self) {
        *self = FontReset::default();
    }

    /// Makes sure the rule is first in the first applicable sheet of `doc` (cheap when it is).
    pub fn ensure(&mut self, doc: &Document, win: &Window) {
        let target = first_applicable_sheet(doc, win);
        if let (Some(rule), Some(t)) = (&self.rule, &target) {
            if rule.parent_style_sheet().as_ref() == Some(t) {
                return;
            }
        }
        if target.is_none() && self.adopted.is_some() && self.rule.is_none() {
            return;
        }
        self.remove(doc);
        match target {
            Some(sheet) => self.rule = insert_first(&sheet),
            None => self.adopted = adopt(doc, win),
        }
    }

    fn remove(&mut self, doc: &Document) {
        if let Some(rule) = self.rule.take() {
            if let Some(sheet) = rule.parent_style_sheet() {
                if let Ok(rules) = sheet.css_rules() {
                    if let Some(i) = (0..rules.length()).find(|&i| rules.item(i).as_ref() == Some(&rule)) {
                        let _ = sheet.delete_rule(i);
                    }
                }
            }
        }
        if let Some(sheet) = self.adopted.take() {
            let kept: Array = doc.adopted_style_sheets().iter().filter(|s| *s != JsValue::from(&sheet)).collect();
            doc.set_adopted_style_sheets(&kept);
        }
    }
}

/// The first enabled sheet of `doc` whose media match now.
fn first_applicable_sheet(doc: &Document, win: &Window) -> Option<CssStyleSheet> {
    let sheets = doc.style_sheets();
    (0..sheets.length()).filter_map(|i| sheets.item(i)).find_map(|sheet| {
        if sheet.disabled() {
            return None;
        }
        let media = sheet.media().media_text();
        let applies = media.trim().is_empty() || win.match_media(&media).ok().flatten().is_some_and(|m| m.matches());
        // Sheets of the frame belong to its realm: `instanceof` here would fail.
        applies.then(|| sheet.unchecked_into::<CssStyleSheet>())
    })
}

/// Inserts the rule after the leading `@charset`/`@import`/`@namespace`/`@layer a, b;` rules.
fn insert_first(sheet: &CssStyleSheet) -> Option<CssRule> {
    let rules = sheet.css_rules().ok()?;
    let leading = |r: &CssRule| {
        matches!(r.type_(), CHARSET_RULE | IMPORT_RULE | NAMESPACE_RULE) || (r.type_() == 0 && r.css_text().starts_with("@layer") && !r.css_text().contains('{'))
    };
    let index = (0..rules.length()).find(|&i| !rules.item(i).as_ref().is_some_and(leading)).unwrap_or(rules.length());
    sheet.insert_rule_with_index(RESET_RULE, index).ok()?;
    sheet.css_rules().ok()?.item(index)
}

/// An adopted sheet holding the rule, built in the frame's realm (a sheet can only be adopted by
/// documents of the realm that constructed it).
fn adopt(doc: &Document, win: &Window) -> Option<CssStyleSheet> {
    let ctor: Function = Reflect::get(win, &JsValue::from_str("CSSStyleSheet")).ok()?.dyn_into().ok()?;
    let sheet: CssStyleSheet = Reflect::construct(&ctor, &Array::new()).ok()?.unchecked_into();
    sheet.replace_sync(RESET_RULE).ok()?;
    let list = doc.adopted_style_sheets();
    list.push(&sheet);
    doc.set_adopted_style_sheets(&list);
    Some(sheet)
}
