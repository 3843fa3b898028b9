//! Bounded, trimmed text fields. Every string the service accepts has a documented maximum
//! length, counted in Unicode scalar values.

use crate::FieldError;
use crate::codes;

/// Trims `value` and checks its length is within `min..=max` characters, and that it holds no
/// control characters other than newlines and tabs when `multiline` is set. The minimum counts the
/// trimmed text (white space alone is empty); the maximum counts what was sent, as the API
/// document's `maxLength` does.
pub fn bounded(pointer: &str, value: &str, min: usize, max: usize, multiline: bool) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(if min == 1 {
            FieldError::new(pointer, codes::REQUIRED, "must not be empty")
        } else {
            FieldError::new(pointer, codes::TOO_SHORT, format!("must be at least {min} characters"))
        });
    }
    if value.chars().count() > max {
        return Err(FieldError::new(pointer, codes::TOO_LONG, format!("must be at most {max} characters")));
    }
    let bad_control = trimmed.chars().any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\t' || c == '\r')));
    if bad_control {
        return Err(FieldError::new(pointer, codes::CONTROL_CHARACTER, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// Whether `value` holds a control character other than tab, line feed and carriage return (NUL,
/// the other C0 controls, DEL, C1 controls). No text input of the service may: transports refuse
/// them before anything reaches the store (PostgreSQL cannot even store NUL in text).
pub fn has_control(value: &str) -> bool {
    value.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The field error for a control character in an input that is not a body field (a path
/// segment, a query parameter, a GraphQL argument).
pub fn control_character(pointer: impl Into<String>) -> FieldError {
    FieldError::new(pointer, codes::CONTROL_CHARACTER, "must not contain control characters")
}

/// A deserialiser's message without the value it was given: `unknown variant `0123…`, expected
/// one of …` becomes `unknown variant, expected one of …`, `invalid type: string "…", expected
/// u32` becomes `invalid type: string, expected u32`. What follows `expected` is the schema's, and
/// kept. Errors are returned to clients and written to logs, so a DBS certificate number typed
/// into the wrong field must not come back in them.
pub fn without_values(message: &str) -> String {
    // The schema's part follows the last `, expected` (a value may itself contain the words).
    let (given, expected) = match message.rfind(", expected") {
        Some(i) => message.split_at(i),
        None => (message, ""),
    };
    // Everything from the first quote to the last one is the value, whatever quotes it holds.
    let first = given.find(['`', '"']);
    let last = given.rfind(['`', '"']);
    let given = match (first, last) {
        (Some(f), Some(l)) if l > f => format!("{}{}", given.get(..f).unwrap_or(""), given.get(l + 1..).unwrap_or("")),
        (Some(f), _) => given.get(..f).unwrap_or("").to_owned(),
        _ => given.to_owned(),
    };
    let mut out = given.split_whitespace().collect::<Vec<_>>().join(" ");
    out.push_str(expected);
    out
}

/// An http(s) URL of at most `max` characters. Other schemes (javascript:, data:) are refused.
pub fn http_url(pointer: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let v = bounded(pointer, value, 1, max, false)?;
    let lower = v.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !v.contains(char::is_whitespace) => Ok(v),
        _ => Err(FieldError::new(pointer, codes::INVALID_URL, "must be an absolute http or https URL")),
    }
}

/// A plausible e-mail address (one `@`, non-empty local part, a dot in the domain).
pub fn email(pointer: &str, value: &str) -> Result<String, FieldError> {
    let v = bounded(pointer, value, 3, 254, false)?;
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.contains(char::is_whitespace)
        }
        None => false,
    };
    if ok { Ok(v) } else { Err(FieldError::new(pointer, codes::INVALID_EMAIL, "must be an e-mail address")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_counts_characters_not_bytes() {
        assert!(bounded("/n", "ééé", 1, 3, false).is_ok());
        assert_eq!(bounded("/n", "éééé", 1, 3, false).unwrap_err().code, "TOO_LONG");
        assert_eq!(bounded("/n", "   ", 1, 3, false).unwrap_err().code, "REQUIRED");
        assert_eq!(bounded("/n", "a\u{0}b", 1, 9, true).unwrap_err().code, "CONTROL_CHARACTER");
        assert_eq!(bounded("/n", "a\nb", 1, 9, false).unwrap_err().code, "CONTROL_CHARACTER");
        assert!(bounded("/n", "a\nb", 1, 9, true).is_ok());
    }

    #[test]
    fn deserialiser_messages_lose_the_values_they_were_given() {
        assert_eq!(
            without_values("unknown variant `001234567890`, expected one of `basic`, `standard`, `enhanced`"),
            "unknown variant, expected one of `basic`, `standard`, `enhanced`"
        );
        assert_eq!(
            without_values("invalid type: string \"AB123\", expected u32"),
            "invalid type: string, expected u32"
        );
        assert_eq!(
            without_values("invalid value: integer `7`, expected a date"),
            "invalid value: integer, expected a date"
        );
        assert_eq!(without_values("premature end of input"), "premature end of input");
        // Quotes and the words `, expected` inside the value hide nothing.
        assert_eq!(
            without_values("unknown variant `x`SECRET`y`, expected one of `a`"),
            "unknown variant, expected one of `a`"
        );
        assert_eq!(
            without_values("unknown variant `SECRET, expected SECRET2`, expected one of `a`"),
            "unknown variant, expected one of `a`"
        );
        assert_eq!(
            without_values("invalid type: string \"a\\\"SECRET\", expected u32"),
            "invalid type: string, expected u32"
        );
    }

    #[test]
    fn control_characters_other_than_line_breaks_and_tabs_are_found() {
        for bad in ["a\u{0}b", "\u{7}", "x\u{7f}", "\u{85}", "\u{9f}"] {
            assert!(has_control(bad), "{bad:?}");
        }
        for ok in ["plain", "two\nlines\r\n", "tab\there", "é ü ☕", "\u{a0}"] {
            assert!(!has_control(ok), "{ok:?}");
        }
    }

    #[test]
    fn urls_must_be_http() {
        assert!(http_url("/u", "https://example.org/x", 100).is_ok());
        assert!(http_url("/u", "javascript:alert(1)", 100).is_err());
        assert!(http_url("/u", "https://", 100).is_err());
        assert!(http_url("/u", "https://a b", 100).is_err());
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(email("/e", "hello@wigan.example.org").is_ok());
        assert!(email("/e", "no-at-sign").is_err());
        assert!(email("/e", "a@b@c.org").is_err());
        assert!(email("/e", "a@localhost").is_err());
    }
}
