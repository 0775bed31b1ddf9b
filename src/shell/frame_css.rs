//! The replay's own rules in the frame's cascade: Chrome's extension-page font cancelled, and the
//! browser's focus ring drawn for the recorded focus.
//!
//! Chrome gives every document it counts as an extension page an author-level sheet
//! `body { font-family: <UI font>; font-size: 75% }` (CDP reports its origin as "injected"), placed
//! ahead of the document's own sheets. The replay frame counts, whatever document it holds
//! (measured: the initial `about:blank`, `document.open()`, a `blob:` document of the extension;
//! a document of any other origin would be out of the player's reach), and script cannot remove
//! the sheet. Left alone, it makes the body text of every replayed page that does not set its own
//! body font 12px in the UI font instead of 16px in the default font. Because it comes first, the
//! same selector placed first among the document's own sheets beats it and still loses to every
//! rule the page has for `body`: [`FONT_RESET`]. What this cannot get right: a page rule for
//! `body` that is less specific than `body` (`:where(body)`, or `*` with a relative size) or in a
//! cascade layer loses to it, as it lost to Chrome's rule.
//!
//! The browser draws its focus ring with a user-agent rule on `:focus-visible`, which never
//! matches in the inert frame; recorded CSS has its `:focus-visible` rewritten to the attribute
//! the renderer sets (`core::css`), and [`FOCUS_RING`] does the same for the user agent's rules,
//! in a cascade layer declared before any of the page's ([`LAYER_ORDER`] goes first in the
//! sheet), so every rule of the page, layered or not, wins over it as over the user agent's.
//!
//! The rules go in through the CSSOM (the DOM is unchanged) at the start of the first sheet that
//! applies, after its `@import`s; a document without any sheet gets them in an adopted sheet.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CssRule, CssStyleSheet, Document, Window};

/// Gives `body` its font back from the user agent (so it inherits from `html`, as without
/// Chrome's rule).
pub const FONT_RESET: &str = "body { font-family: revert; font-size: revert; }";
/// Declares the layer of [`FOCUS_RING`] before any layer of the page: the lowest of them all.
pub const LAYER_ORDER: &str = "@layer tabreel-ua;";
/// Chrome's user-agent focus ring rules, on the attribute the renderer sets.
pub const FOCUS_RING: &str = "@layer tabreel-ua { \
    [data-tabreel-focus-visible] { outline: auto 1px -webkit-focus-ring-color; } \
    :is(input, textarea, select)[data-tabreel-focus-visible] { outline-offset: 0px; } \
    a:any-link[data-tabreel-focus-visible] { outline-offset: 1px; } }";

/// `CSSRule.type` values of the rules that must stay ahead of a style rule.
const CHARSET_RULE: u16 = 2;
const IMPORT_RULE: u16 = 3;
const NAMESPACE_RULE: u16 = 10;

/// Where the replay's rules live in the current frame document.
#[derive(Default)]
pub struct FrameCss {
    sheet: Option<CssStyleSheet>,
    rules: Vec<CssRule>,
    adopted: bool,
}

impl FrameCss {
    /// Forgets the rules (their document was replaced).
    pub fn forget(&mut self) {
        *self = FrameCss::default();
    }

    /// Makes sure the rules are first in the first applicable sheet of `doc` (cheap when they are).
    pub fn ensure(&mut self, doc: &Document, win: &Window) {
        let target = first_applicable_sheet(doc, win);
        let in_place = match (&self.sheet, &target) {
            (Some(sheet), Some(t)) => !self.adopted && sheet == t && self.rules.iter().all(|r| r.parent_style_sheet().as_ref() == Some(t)),
            (Some(_), None) => self.adopted,
            _ => false,
        };
        if in_place {
            return;
        }
        self.remove(doc);
        match target {
            Some(sheet) => {
                self.rules = insert_first(&sheet);
                self.sheet = Some(sheet);
            }
            None => {
                self.sheet = adopt(doc, win);
                self.adopted = self.sheet.is_some();
            }
        }
    }

    /// Takes the rules out of `sheet` if they are in it: the player is about to change its rules
    /// by the recorded indexes, which do not count them. [`Self::ensure`] puts them back.
    pub fn withdraw_from(&mut self, doc: &Document, sheet: &CssStyleSheet) {
        if !self.adopted && self.sheet.as_ref() == Some(sheet) {
            self.remove(doc);
        }
    }

    /// Takes the adopted sheet holding the rules, if there is one, out of the document's list:
    /// the player is about to set the list the page had. [`Self::ensure`] puts it back.
    pub fn withdraw_adopted(&mut self, doc: &Document) {
        if self.adopted {
            self.remove(doc);
        }
    }

    fn remove(&mut self, doc: &Document) {
        for rule in self.rules.drain(..) {
            let Some(sheet) = rule.parent_style_sheet() else { continue };
            let Ok(list) = sheet.css_rules() else { continue };
            if let Some(i) = (0..list.length()).find(|&i| list.item(i).as_ref() == Some(&rule)) {
                let _ = sheet.delete_rule(i);
            }
        }
        if let Some(sheet) = self.sheet.take().filter(|_| self.adopted) {
            let kept: Array = doc.adopted_style_sheets().iter().filter(|s| *s != JsValue::from(&sheet)).collect();
            doc.set_adopted_style_sheets(&kept);
        }
        self.adopted = false;
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

/// Inserts the layer order first and the rules after the leading `@import`s (and `@namespace`s,
/// and layer statements); returns the rules inserted.
fn insert_first(sheet: &CssStyleSheet) -> Vec<CssRule> {
    let mut inserted = Vec::new();
    let Ok(rules) = sheet.css_rules() else { return inserted };
    let leading = |r: &CssRule| {
        matches!(r.type_(), CHARSET_RULE | IMPORT_RULE | NAMESPACE_RULE) || (r.type_() == 0 && r.css_text().starts_with("@layer") && !r.css_text().contains('{'))
    };
    let index = (0..rules.length()).find(|&i| !rules.item(i).as_ref().is_some_and(leading)).unwrap_or(rules.length());
    // Last first, so that the indexes stay put.
    for (at, text) in [(index, FOCUS_RING), (index, FONT_RESET), (0, LAYER_ORDER)] {
        if sheet.insert_rule_with_index(text, at).is_ok() {
            if let Some(rule) = rules.item(at) {
                inserted.push(rule);
            }
        }
    }
    inserted
}

/// An adopted sheet holding the rules, built in the frame's realm (a sheet can only be adopted
/// by documents of the realm that constructed it), first in the list: the page's own adopted
/// sheets (recorded) come after it and win.
fn adopt(doc: &Document, win: &Window) -> Option<CssStyleSheet> {
    let ctor: Function = Reflect::get(win, &JsValue::from_str("CSSStyleSheet")).ok()?.dyn_into().ok()?;
    let sheet: CssStyleSheet = Reflect::construct(&ctor, &Array::new()).ok()?.unchecked_into();
    sheet.replace_sync(&format!("{LAYER_ORDER} {FONT_RESET} {FOCUS_RING}")).ok()?;
    let list = doc.adopted_style_sheets();
    list.unshift(&sheet);
    doc.set_adopted_style_sheets(&list);
    Some(sheet)
}
