//! The replay's own rules in the frame's cascade: Chrome's extension-page font cancelled, and the
//! browser's focus ring drawn for the recorded focus, in the document and in shadow trees.
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
//! A shadow tree is a cascade of its own: the document's rules do not reach the elements in it, and
//! the user agent's ring is drawn there too. So the shadow root holding the recorded focus, when
//! its ring shows, gets [`FOCUS_RING`] the same way (the font reset has nothing to do there).
//!
//! The rules go in through the CSSOM (the DOM is unchanged) at the start of the first sheet that
//! applies, after its `@import`s; a document or shadow root without any such sheet gets them in an
//! adopted sheet, first in its list.

use js_sys::{Array, Function, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CssRule, CssStyleSheet, Node, StyleSheetList, Window};

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

/// Which cascade the rules are for.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub enum Scope {
    /// A replayed document: the font reset and the focus ring.
    #[default]
    Document,
    /// A shadow root in one: the focus ring.
    ShadowRoot,
}

impl Scope {
    /// The rules, each with where it goes in a sheet (`true`: first of all; `false`: after the
    /// rules that must lead), in the order they are inserted (last first, so indexes hold).
    fn rules(self) -> &'static [(bool, &'static str)] {
        match self {
            Scope::Document => &[(false, FOCUS_RING), (false, FONT_RESET), (true, LAYER_ORDER)],
            Scope::ShadowRoot => &[(false, FOCUS_RING), (true, LAYER_ORDER)],
        }
    }

    /// The text of an adopted sheet holding the rules.
    fn sheet_text(self) -> String {
        match self {
            Scope::Document => format!("{LAYER_ORDER} {FONT_RESET} {FOCUS_RING}"),
            Scope::ShadowRoot => format!("{LAYER_ORDER} {FOCUS_RING}"),
        }
    }
}

/// Where the replay's rules live in one document or shadow root (its `root`, passed to every
/// call: the same one each time).
#[derive(Default)]
pub struct FrameCss {
    scope: Scope,
    sheet: Option<CssStyleSheet>,
    rules: Vec<CssRule>,
    adopted: bool,
}

impl FrameCss {
    /// The rules of a shadow root (the focus ring).
    pub fn for_shadow_root() -> FrameCss {
        FrameCss { scope: Scope::ShadowRoot, ..FrameCss::default() }
    }

    /// Forgets the rules (their document was replaced).
    pub fn forget(&mut self) {
        *self = FrameCss { scope: self.scope, ..FrameCss::default() };
    }

    /// Makes sure the rules are first in the first applicable sheet of `root`, a document or a
    /// shadow root (cheap when they are).
    pub fn ensure(&mut self, root: &Node, win: &Window) {
        let target = first_applicable_sheet(root, win);
        let in_place = match (&self.sheet, &target) {
            (Some(sheet), Some(t)) => !self.adopted && sheet == t && self.rules.iter().all(|r| r.parent_style_sheet().as_ref() == Some(t)),
            (Some(sheet), None) => self.adopted && adopted_sheets(root).includes(sheet, 0),
            _ => false,
        };
        if in_place {
            return;
        }
        self.remove(root);
        match target {
            Some(sheet) => {
                self.rules = insert_first(&sheet, self.scope);
                self.sheet = Some(sheet);
            }
            None => {
                self.sheet = adopt(root, win, self.scope);
                self.adopted = self.sheet.is_some();
            }
        }
    }

    /// Takes the rules out of `sheet` if they are in it: the player is about to change its rules
    /// by the recorded indexes, which do not count them. [`Self::ensure`] puts them back.
    pub fn withdraw_from(&mut self, root: &Node, sheet: &CssStyleSheet) {
        if !self.adopted && self.sheet.as_ref() == Some(sheet) {
            self.remove(root);
        }
    }

    /// Takes the adopted sheet holding the rules, if there is one, out of the root's list: the
    /// player is about to set the list the page had. [`Self::ensure`] puts it back.
    pub fn withdraw_adopted(&mut self, root: &Node) {
        if self.adopted {
            self.remove(root);
        }
    }

    /// Takes the rules out of `root`, wherever they are.
    pub fn remove(&mut self, root: &Node) {
        for rule in self.rules.drain(..) {
            let Some(sheet) = rule.parent_style_sheet() else { continue };
            let Ok(list) = sheet.css_rules() else { continue };
            if let Some(i) = (0..list.length()).find(|&i| list.item(i).as_ref() == Some(&rule)) {
                let _ = sheet.delete_rule(i);
            }
        }
        if let Some(sheet) = self.sheet.take().filter(|_| self.adopted) {
            let kept: Array = adopted_sheets(root).iter().filter(|s| *s != JsValue::from(&sheet)).collect();
            let _ = Reflect::set(root, &"adoptedStyleSheets".into(), &kept);
        }
        self.adopted = false;
    }
}

/// The `adoptedStyleSheets` of a document or shadow root (empty if it has none). The list is an
/// array of the frame's realm, unchecked (`instanceof` here would fail).
fn adopted_sheets(root: &Node) -> Array {
    Reflect::get(root, &"adoptedStyleSheets".into()).ok().filter(|v| v.is_object()).map(JsValue::unchecked_into).unwrap_or_default()
}

/// The first enabled sheet of `root` (a document or shadow root) whose media match now.
fn first_applicable_sheet(root: &Node, win: &Window) -> Option<CssStyleSheet> {
    let sheets: StyleSheetList = Reflect::get(root, &"styleSheets".into()).ok().filter(|v| v.is_object())?.unchecked_into();
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
fn insert_first(sheet: &CssStyleSheet, scope: Scope) -> Vec<CssRule> {
    let mut inserted = Vec::new();
    let Ok(rules) = sheet.css_rules() else { return inserted };
    let leading = |r: &CssRule| {
        matches!(r.type_(), CHARSET_RULE | IMPORT_RULE | NAMESPACE_RULE) || (r.type_() == 0 && r.css_text().starts_with("@layer") && !r.css_text().contains('{'))
    };
    let index = (0..rules.length()).find(|&i| !rules.item(i).as_ref().is_some_and(leading)).unwrap_or(rules.length());
    for &(first, text) in scope.rules() {
        let at = if first { 0 } else { index };
        if sheet.insert_rule_with_index(text, at).is_ok() {
            if let Some(rule) = rules.item(at) {
                inserted.push(rule);
            }
        }
    }
    inserted
}

/// An adopted sheet holding the rules, built in the frame's realm (a sheet can only be adopted
/// by documents and shadow roots of the realm that constructed it), first in the list: the
/// page's own adopted sheets (recorded) come after it and win.
fn adopt(root: &Node, win: &Window, scope: Scope) -> Option<CssStyleSheet> {
    let ctor: Function = Reflect::get(win, &JsValue::from_str("CSSStyleSheet")).ok()?.dyn_into().ok()?;
    let sheet: CssStyleSheet = Reflect::construct(&ctor, &Array::new()).ok()?.unchecked_into();
    sheet.replace_sync(&scope.sheet_text()).ok()?;
    let list = adopted_sheets(root);
    list.unshift(&sheet);
    Reflect::set(root, &"adoptedStyleSheets".into(), &list).ok()?;
    Some(sheet)
}
