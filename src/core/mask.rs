//! Privacy policy: which form fields are sensitive, and what is recorded in place of their value.
//!
//! The recorder asks this module before any value, attribute or input leaves the page, so the
//! policy lives in one place and is tested on the host. A password is never stored: not its
//! value, not its `value` attribute, not its length. A field stays sensitive once it has been a
//! password field (a "show password" toggle turning it into `type=text` must not reveal it).

use crate::core::event::FormState;

/// `autocomplete` tokens that mark a field as sensitive even when it is not `type=password`.
const SENSITIVE_AUTOCOMPLETE: &[&str] = &["current-password", "new-password", "one-time-code", "cc-number", "cc-csc"];

/// What the recorder knows about a form control when deciding whether to mask it.
#[derive(Clone, Copy, Debug, Default)]
pub struct FieldFacts<'a> {
    /// Lower-case tag name.
    pub tag: &'a str,
    /// The `type` attribute, if any (any case).
    pub input_type: Option<&'a str>,
    /// The `autocomplete` attribute, if any.
    pub autocomplete: Option<&'a str>,
    /// Whether this element was sensitive at any earlier point of the recording.
    pub was_sensitive: bool,
}

impl FieldFacts<'_> {
    /// True when the field's value must never be recorded.
    pub fn is_sensitive(&self) -> bool {
        if self.was_sensitive {
            return true;
        }
        if self.tag != "input" && self.tag != "textarea" {
            return false;
        }
        if self.input_type.is_some_and(|t| t.trim().eq_ignore_ascii_case("password")) {
            return true;
        }
        self.autocomplete.is_some_and(|a| {
            a.split_ascii_whitespace().any(|tok| SENSITIVE_AUTOCOMPLETE.iter().any(|s| tok.eq_ignore_ascii_case(s)))
        })
    }

    /// The state to record for a field whose live value is `value`.
    pub fn recorded_state(&self, value: &str) -> FormState {
        if self.is_sensitive() {
            FormState::Masked { filled: !value.is_empty() }
        } else {
            FormState::Value { value: value.to_owned() }
        }
    }

    /// Whether attribute `name` may be recorded as is on this element. The `value` attribute of
    /// a sensitive field is dropped (pages sometimes mirror the typed value into it).
    pub fn keeps_attribute(&self, name: &str) -> bool {
        !(self.is_sensitive() && name.eq_ignore_ascii_case("value"))
    }
}

/// True when an attribute change can turn a field sensitive (the recorder then re-checks it).
pub fn can_change_sensitivity(attribute: &str) -> bool {
    attribute.eq_ignore_ascii_case("type") || attribute.eq_ignore_ascii_case("autocomplete")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(t: &str) -> FieldFacts<'_> {
        FieldFacts { tag: "input", input_type: Some(t), ..Default::default() }
    }

    #[test]
    fn password_inputs_are_masked_without_length() {
        let f = input("PassWord");
        assert!(f.is_sensitive());
        assert_eq!(f.recorded_state("hunter2"), FormState::Masked { filled: true });
        assert_eq!(f.recorded_state("a much longer secret"), FormState::Masked { filled: true });
        assert_eq!(f.recorded_state(""), FormState::Masked { filled: false });
        assert!(!f.keeps_attribute("value"));
        assert!(f.keeps_attribute("class"));
    }

    #[test]
    fn ordinary_fields_keep_their_value() {
        for f in [input("text"), input("email"), FieldFacts { tag: "textarea", ..Default::default() }] {
            assert!(!f.is_sensitive());
            assert_eq!(f.recorded_state("x"), FormState::Value { value: "x".into() });
            assert!(f.keeps_attribute("value"));
        }
    }

    #[test]
    fn autocomplete_tokens_mark_sensitive_fields() {
        let f = FieldFacts { tag: "input", input_type: Some("text"), autocomplete: Some("section-a Current-Password"), was_sensitive: false };
        assert!(f.is_sensitive());
        let f = FieldFacts { tag: "input", autocomplete: Some("username"), ..Default::default() };
        assert!(!f.is_sensitive());
    }

    #[test]
    fn a_field_that_was_a_password_stays_masked() {
        let f = FieldFacts { was_sensitive: true, ..input("text") };
        assert!(f.is_sensitive());
        assert_eq!(f.recorded_state("shown"), FormState::Masked { filled: true });
    }

    #[test]
    fn non_fields_are_never_sensitive() {
        let f = FieldFacts { tag: "div", input_type: Some("password"), ..Default::default() };
        assert!(!f.is_sensitive());
        assert!(can_change_sensitivity("TYPE"));
        assert!(!can_change_sensitivity("class"));
    }
}
