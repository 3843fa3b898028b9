//! Rules every text input follows, written into the OpenAPI document after utoipa has made it, so
//! that the document states what the server enforces (and schema-based testers generate only what
//! it accepts): no control characters anywhere (tab and line breaks only in the fields that are
//! multi-line text); request body text not blank, where the domain trims and requires it; and the
//! `If-Match` format. Only what requests carry is changed: parameters and the schemas that request
//! bodies use. Responses keep their schemas.

use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// No control character at all (C0, DEL, C1).
pub const SINGLE_LINE: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// No control character but tab, line feed and carriage return.
pub const MULTI_LINE: &str = "^[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$";
/// White space the server trims from text (tab and line breaks included); a regex `\\s` would
/// also take vertical tab, form feed and NEL, which are control characters and refused.
const TRIMMED: &str = " \\t\\n\\r\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
/// A character that is neither trimmed white space nor a control character.
const VISIBLE: &str = "[^\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";

/// Single-line text that is not blank once trimmed: no control character inside it.
pub fn not_blank() -> String {
    format!("^[{TRIMMED}]*{VISIBLE}([^\\u0000-\\u001F\\u007F-\\u009F]*{VISIBLE})?[{TRIMMED}]*$")
}

/// Single-line text of at least `min` (2 or more) characters once trimmed.
pub fn at_least(min: usize) -> String {
    let inner = min.saturating_sub(2);
    format!("^[{TRIMMED}]*{VISIBLE}[^\\u0000-\\u001F\\u007F-\\u009F]{{{inner},}}{VISIBLE}[{TRIMMED}]*$")
}

/// Multi-line text that is not blank once trimmed: tab and line breaks allowed inside it.
pub fn not_blank_multi_line() -> String {
    format!("^[{TRIMMED}]*{VISIBLE}[^\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F\\u007F-\\u009F]*$")
}

/// Body fields that are multi-line text (the domain allows tab and line breaks in them).
const MULTI_LINE_FIELDS: [&str; 8] =
    ["description", "accessibility_notes", "concessions", "status_reason", "reason", "address", "custom", "text"];

/// Body fields that may be empty (the domain does not require them to have text).
const MAY_BE_EMPTY: [(&str, &str); 1] = [("NewApp", "description")];

/// Optional fields whose schema comes from a function (enumerations): `null` is absent, as for
/// every other optional field (and custom guidelines have no template).
const NULLABLE: [(&str, &str); 8] = [
    ("GuidelinesOut", "template"),
    ("EventInput", "status"),
    ("EventInput", "booking"),
    ("OccurrenceChange", "status"),
    ("UpdateGroup", "kind"),
    ("UpdateGroup", "categories"),
    ("UpdateGroup", "visibility"),
    ("UpdateGroup", "join_policy"),
];

/// Body fields the domain requires to have more than one character (once trimmed).
const MIN_CHARS: [(&str, &str, usize); 4] = [
    ("CreateGroup", "name", 3),
    ("UpdateGroup", "name", 3),
    ("EvidenceBody", "checked", 3),
    ("EvidenceBody", "method", 3),
];

/// A UK outward code, as the server reads it (case-insensitive).
const OUTCODE: &str = "^([A-Za-z]{1,2}[0-9][A-Za-z0-9]?)?$";
/// A local date and time as events are written (`2026-04-07T10:00`), or a date for all-day ones.
const LOCAL_TIME: &str =
    "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?)?$";
/// Body fields that are local times.
const LOCAL_TIME_FIELDS: [(&str, &str); 5] = [
    ("EventInput", "start"),
    ("EventInput", "end"),
    ("EventInput", "exdates"),
    ("OccurrenceChange", "start"),
    ("OccurrenceChange", "end"),
];

/// White space and control characters, as one class body (for URLs and e-mail addresses, which
/// hold neither).
const SPACE_OR_CONTROL: &str =
    "\\u0000-\\u0020\\u007F-\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

/// An http or https URL (the scheme in any case), with a host, as links and pages are checked.
fn http_url() -> String {
    format!("^[{TRIMMED}]*[Hh][Tt][Tt][Pp][Ss]?://[^/{SPACE_OR_CONTROL}][^{SPACE_OR_CONTROL}]*[{TRIMMED}]*$")
}

/// An OAuth redirect URI: https, or http on a loopback host (RFC 8252); no fragment.
fn redirect_uri() -> String {
    let c = format!("[^#{SPACE_OR_CONTROL}]");
    let port = format!("[^:/?#{SPACE_OR_CONTROL}]*");
    format!(
        "^(https://[^/#{SPACE_OR_CONTROL}]{c}*|http://(localhost|127\\.0\\.0\\.1)(:{port})?([/?]{c}*)?|http://\\[::1\\]:{port}([/?]{c}*)?)$"
    )
}

/// An e-mail address as the server checks it: something, one `@`, a domain with a dot inside.
fn email() -> String {
    let c = format!("[^@{SPACE_OR_CONTROL}]");
    let d = format!("[^@.{SPACE_OR_CONTROL}]");
    format!("^[{TRIMMED}]*{c}+@{d}{c}*\\.{c}*{d}[{TRIMMED}]*$")
}

/// The cursors the service gives out in `next` links (base64url).
const CURSOR: &str = "^[A-Za-z0-9_-]{0,512}$";

/// Applies the rules to the document.
pub fn apply(doc: &mut Value) {
    exactly_one_guideline(doc);
    at_least_one(doc, "NewApp", "scopes");
    // Arrays with a limit (and groups' categories, which must not repeat).
    for (schema, field, max) in [
        ("NewApp", "redirect_uris", scaffold_domain::identity::REDIRECT_URIS_MAX),
        ("CreateGroup", "links", scaffold_domain::group::LINKS_MAX),
        ("UpdateGroup", "links", scaffold_domain::group::LINKS_MAX),
        ("CreateGroup", "categories", scaffold_domain::group::CATEGORIES_MAX),
        ("UpdateGroup", "categories", scaffold_domain::group::CATEGORIES_MAX),
        ("EventInput", "categories", 5),
        ("EventInput", "activities", 5),
        ("EventInput", "exdates", scaffold_domain::event::MAX_EXDATES),
    ] {
        if let Some(a) =
            doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{field}")).and_then(Value::as_object_mut)
        {
            let _ = a.insert("maxItems".into(), json!(max));
            if field == "categories" && schema.ends_with("Group") {
                let _ = a.insert("uniqueItems".into(), json!(true));
            }
        }
    }
    // The token endpoint knows one grant, and needs it named.
    if let Some(g) =
        doc.pointer_mut("/components/schemas/TokenForm/properties/grant_type").and_then(Value::as_object_mut)
    {
        let _ = g.insert("enum".into(), json!(["client_credentials"]));
    }
    if let Some(form) = doc.pointer_mut("/components/schemas/TokenForm").and_then(Value::as_object_mut) {
        let _ = form.insert("required".into(), json!(["grant_type"]));
    }
    // Apps may ask for every scope but `admin`.
    if let Some(items) =
        doc.pointer_mut("/components/schemas/NewApp/properties/scopes/items/enum").and_then(Value::as_array_mut)
    {
        items.retain(|s| s != "admin");
    }
    for (schema, field) in NULLABLE {
        if let Some(f) =
            doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{field}")).and_then(Value::as_object_mut)
        {
            nullable(f);
        }
    }
    let request_schemas = request_schemas(doc);
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for name in &request_schemas {
            if let Some(s) = schemas.get_mut(name) {
                body_schema(s, name, "");
            }
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                for p in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
                    parameter(p);
                }
            }
        }
    }
}

/// The component schemas that request bodies use, directly or through others.
fn request_schemas(doc: &Value) -> BTreeSet<String> {
    let mut todo: Vec<String> = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for op in paths.values().filter_map(Value::as_object).flat_map(|i| i.values()) {
            if let Some(body) = op.get("requestBody") {
                refs(body, &mut todo);
            }
        }
    }
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone())
            && let Some(s) = doc.pointer(&format!("/components/schemas/{name}"))
        {
            refs(s, &mut todo);
        }
    }
    seen
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str)
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                out.push(name.to_owned());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

fn is_string(m: &Map<String, Value>) -> bool {
    match m.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

fn free_text(m: &Map<String, Value>) -> bool {
    is_string(m) && !m.contains_key("format") && !m.contains_key("enum") && !m.contains_key("pattern")
}

/// A request body schema: text properties get their rule by name.
fn body_schema(v: &mut Value, schema: &str, field: &str) {
    let Some(m) = v.as_object_mut() else { return };
    unsigned(m);
    if free_text(m) {
        let multi = MULTI_LINE_FIELDS.contains(&field);
        let empty_ok = MAY_BE_EMPTY.contains(&(schema, field));
        let min = MIN_CHARS.iter().find(|(s, f, _)| *s == schema && *f == field).map(|(_, _, n)| *n);
        let local_time = LOCAL_TIME_FIELDS.contains(&(schema, field));
        let pattern = match (multi, empty_ok) {
            _ if local_time => LOCAL_TIME.to_owned(),
            _ if matches!(field, "homepage" | "online_url" | "booking_url" | "url") => http_url(),
            _ if field == "redirect_uris" => redirect_uri(),
            _ if field == "contact_email" => email(),
            (false, false) if min.is_some() => at_least(min.unwrap_or(2)),
            (false, false) => not_blank(),
            (true, false) => not_blank_multi_line(),
            (false, true) => SINGLE_LINE.to_owned(),
            (true, true) => MULTI_LINE.to_owned(),
        };
        let _ = m.insert("pattern".into(), json!(pattern));
    }
    if let Some(props) = m.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, p) in props.iter_mut() {
            body_schema(p, schema, name);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(x) = m.get_mut(key) {
            body_schema(x, schema, field);
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for x in m.get_mut(key).and_then(Value::as_array_mut).into_iter().flatten() {
            body_schema(x, schema, field);
        }
    }
}

/// Path, query and header parameters: no control characters; `If-Match` is an ETag or `*`;
/// outward codes, cursors and feed positions have their shapes.
fn parameter(p: &mut Value) {
    let name = p.get("name").and_then(Value::as_str).unwrap_or_default().to_owned();
    let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) else { return };
    if !free_text(schema) {
        return;
    }
    let pattern = match name.to_ascii_lowercase().as_str() {
        "if-match" => "^(\"[0-9]{1,18}\"|\\*)$",
        // Empty values are absent (as HTML forms send them).
        "outcode" => OUTCODE,
        "after" => CURSOR,
        "aftertimestamp" => "^[0-9]{0,18}$",
        "local_start" => LOCAL_TIME,
        _ => SINGLE_LINE,
    };
    let _ = schema.insert("pattern".into(), json!(pattern));
}

/// A community guidelines body names a template or custom text, exactly one of them (a null
/// counts as absent, as the server reads it).
fn exactly_one_guideline(doc: &mut Value) {
    let Some(g) = doc.pointer_mut("/components/schemas/GuidelinesBody").and_then(Value::as_object_mut) else {
        return;
    };
    let _ = g.insert(
        "oneOf".into(),
        json!([
            { "required": ["template"], "properties": { "template": { "type": "string" }, "custom": { "type": "null" } } },
            { "required": ["custom"], "properties": { "custom": { "type": "string" }, "template": { "type": "null" } } }
        ]),
    );
    if let Some(t) = g.get_mut("properties").and_then(|p| p.get_mut("template")).and_then(Value::as_object_mut) {
        let _ = t.insert("type".into(), json!(["string", "null"]));
        if let Some(values) = t.get_mut("enum").and_then(Value::as_array_mut) {
            values.push(Value::Null);
        }
    }
}

/// utoipa writes Rust's `u32` as `int32` from 0, which claims a maximum of 2^31 - 1; the server
/// takes up to 2^32 - 1.
fn unsigned(m: &mut Map<String, Value>) {
    let integer = match m.get("type") {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
        _ => false,
    };
    let from_zero = m.get("minimum").and_then(Value::as_f64).is_some_and(|n| n >= 0.0);
    if integer && from_zero && m.get("format") == Some(&json!("int32")) && !m.contains_key("maximum") {
        let _ = m.remove("format");
        let _ = m.insert("maximum".into(), json!(u32::MAX));
    }
}

/// Lets a schema take `null` too.
fn nullable(f: &mut Map<String, Value>) {
    match f.get("type").cloned() {
        Some(Value::String(t)) => {
            let _ = f.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(mut ts)) if !ts.contains(&json!("null")) => {
            ts.push(json!("null"));
            let _ = f.insert("type".into(), Value::Array(ts));
        }
        _ => {}
    }
    if let Some(values) = f.get_mut("enum").and_then(Value::as_array_mut)
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
}

/// An array the server refuses when empty.
fn at_least_one(doc: &mut Value, schema: &str, field: &str) {
    if let Some(a) =
        doc.pointer_mut(&format!("/components/schemas/{schema}/properties/{field}")).and_then(Value::as_object_mut)
    {
        let _ = a.insert("minItems".into(), json!(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(s)
    }

    #[test]
    fn the_patterns_say_what_the_domain_checks() {
        use scaffold_domain::text::{bounded, has_control};
        let samples = [
            "a",
            " a ",
            "",
            "  ",
            "a\nb",
            "a\tb",
            "a\u{0}",
            "\u{7f}",
            "\u{85}x",
            "é ☕",
            "\u{a0}x\u{a0}",
            "\n a",
            "\u{b} a",
            "\u{c}a",
            "\u{2003}a\u{3000}",
            "\u{a0}",
            "\t\tx",
            "\r\n",
            "x\u{1f}",
            "a\n",
            "a b",
            "a \t b",
            "\u{2028}",
            "a\u{2028}b",
        ];
        // What the server accepts: the transport refuses control characters but tab and line
        // breaks, then the domain trims and checks.
        let accepted = |s: &str, multi: bool| !has_control(s) && bounded("/x", s, 1, 100, multi).is_ok();
        for s in samples {
            assert_eq!(matches(SINGLE_LINE, s), !s.chars().any(char::is_control), "{s:?}");
            assert_eq!(matches(MULTI_LINE, s), !has_control(s), "{s:?}");
            assert_eq!(matches(&not_blank(), s), accepted(s, false), "{s:?}");
            assert_eq!(matches(&not_blank_multi_line(), s), accepted(s, true), "{s:?}");
            let three = !has_control(s) && bounded("/x", s, 3, 100, false).is_ok();
            assert_eq!(matches(&at_least(3), s), three, "{s:?}");
        }
        for (s, ok) in [
            ("https://example.org/x", true),
            ("HTTP://a", true),
            (" https://a.b ", true),
            ("https:///x", false),
            ("https://a b", false),
            ("ftp://x", false),
            ("https://", false),
        ] {
            assert_eq!(matches(&http_url(), s), ok, "{s:?}");
            assert_eq!(scaffold_domain::text::http_url("/u", s, 500).is_ok(), ok, "{s:?}");
        }
        for (s, ok) in [
            ("https://app.example/cb", true),
            ("http://localhost:8080/cb", true),
            ("http://127.0.0.1/cb", true),
            ("http://[::1]:9/cb", true),
            ("http://evil.example/cb", false),
            ("https://app.example/cb#x", false),
            ("HTTPS://app.example", false),
            ("https:///cb", false),
        ] {
            assert_eq!(matches(&redirect_uri(), s), ok, "{s:?}");
        }
        for (s, ok) in [
            ("a@b.c", true),
            (" hello@wigan.example.org ", true),
            ("a@b", false),
            ("a@.b", false),
            ("@b.c", false),
            ("a@b.c.", false),
            ("a b@c.d", false),
        ] {
            assert_eq!(matches(&email(), s), ok, "{s:?}");
            assert_eq!(scaffold_domain::text::email("/e", s).is_ok(), ok, "{s:?}");
        }
        for s in ["abc", " a b ", "ab", " ab ", "a\tb", "a  "] {
            let three = !has_control(s) && bounded("/x", s, 3, 100, false).is_ok();
            assert_eq!(matches(&at_least(3), s), three, "{s:?}");
        }
    }

    #[test]
    fn body_text_is_single_line_not_blank_unless_named_otherwise() {
        let mut doc = json!({
            "paths": { "/x": { "post": { "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/In" } } } },
                                          "parameters": [{ "name": "q", "in": "query", "schema": { "type": "string" } },
                                                         { "name": "If-Match", "in": "header", "schema": { "type": "string" } }] } } },
            "components": { "schemas": {
                "In": { "type": "object", "properties": { "name": { "type": "string" }, "description": { "type": ["string", "null"] },
                        "at": { "type": "string", "format": "date-time" }, "place": { "$ref": "#/components/schemas/Place" } } },
                "Place": { "type": "object", "properties": { "address": { "type": "string" } } },
                "Out": { "type": "object", "properties": { "name": { "type": "string" } } }
            } }
        });
        apply(&mut doc);
        let p = |ptr: &str| doc.pointer(ptr).and_then(Value::as_str).map(str::to_owned);
        assert_eq!(p("/components/schemas/In/properties/name/pattern"), Some(not_blank()));
        assert_eq!(p("/components/schemas/In/properties/description/pattern"), Some(not_blank_multi_line()));
        assert_eq!(p("/components/schemas/In/properties/at/pattern"), None, "formats keep their own rules");
        assert_eq!(p("/components/schemas/Place/properties/address/pattern"), Some(not_blank_multi_line()));
        assert_eq!(p("/components/schemas/Out/properties/name/pattern"), None, "responses are untouched");
        assert_eq!(p("/paths/~1x/post/parameters/0/schema/pattern").as_deref(), Some(SINGLE_LINE));
        assert!(p("/paths/~1x/post/parameters/1/schema/pattern").unwrap().contains("[0-9]"));
    }
}
