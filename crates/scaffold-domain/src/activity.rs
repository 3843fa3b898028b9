//! The OpenActive Activity List (a SKOS concept scheme, CC BY 4.0, shipped in `data/openactive/`
//! with its licence): events that are physical activities name their activities from it, and only
//! those events are published in the OpenActive feeds, whose data model requires an activity.

use crate::FieldError;
use crate::codes;
use std::collections::HashMap;
use std::sync::LazyLock;

static LIST: &str = include_str!("../data/openactive/activity-list.jsonld");

/// The concept scheme's id, which feeds give as each activity's `inScheme`.
pub const SCHEME: &str = "https://openactive.io/activity-list";

/// Attribution that must accompany any redistribution of the list.
pub const ATTRIBUTION: &str =
    "OpenActive Activity List (https://openactive.io/activity-list), OpenActive, licensed under CC BY 4.0.";

/// One concept of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// The concept's identifier (a UUID), e.g. `c16df6ed-a4a0-4275-a8c3-1c8cff56856f`.
    pub identifier: String,
    pub pref_label: String,
}

impl Activity {
    /// The concept's id: `https://openactive.io/activity-list#<identifier>`.
    pub fn id(&self) -> String {
        format!("{SCHEME}#{}", self.identifier)
    }

    /// The concept named by its identifier, its id URL, or its preferred label (any case).
    pub fn find(name: &str) -> Option<Self> {
        let name = name.trim();
        let key = name.strip_prefix(SCHEME).and_then(|s| s.strip_prefix('#')).unwrap_or(name);
        let list = &*CONCEPTS;
        list.by_identifier
            .get(key.to_ascii_lowercase().as_str())
            .or_else(|| list.by_label.get(name.to_lowercase().as_str()))
            .map(|&(identifier, label)| Self { identifier: identifier.to_owned(), pref_label: label.to_owned() })
    }

    /// Checks a list of activity names (at most 5), reporting each unknown one.
    pub fn parse_all(pointer: &str, names: &[String]) -> Result<Vec<Self>, Vec<FieldError>> {
        if names.len() > 5 {
            return Err(vec![FieldError::new(pointer, codes::TOO_MANY, "at most 5 activities")]);
        }
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for (i, n) in names.iter().enumerate() {
            match Self::find(n) {
                Some(a) if !out.contains(&a) => out.push(a),
                Some(_) => {}
                None => errors.push(FieldError::new(
                    format!("{pointer}/{i}"),
                    codes::UNKNOWN_ACTIVITY,
                    "is not in the OpenActive Activity List (give its identifier, id URL or preferred label)",
                )),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

struct Concepts {
    by_identifier: HashMap<&'static str, (&'static str, &'static str)>,
    by_label: HashMap<String, (&'static str, &'static str)>,
}

/// The shipped list is a fixed input: parsed once, with a test that it parses and is non-empty.
static CONCEPTS: LazyLock<Concepts> = LazyLock::new(|| {
    #[derive(serde::Deserialize)]
    struct Scheme<'a> {
        #[serde(borrow)]
        concept: Vec<Concept<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Concept<'a> {
        identifier: &'a str,
        #[serde(rename = "prefLabel")]
        pref_label: &'a str,
    }
    let scheme: Scheme<'static> = serde_json::from_str(LIST).unwrap_or(Scheme { concept: Vec::new() });
    let mut by_identifier = HashMap::new();
    let mut by_label = HashMap::new();
    for c in scheme.concept {
        by_identifier.insert(c.identifier, (c.identifier, c.pref_label));
        by_label.insert(c.pref_label.to_lowercase(), (c.identifier, c.pref_label));
    }
    Concepts { by_identifier, by_label }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_parses_and_finds_concepts_by_identifier_url_and_label() {
        assert!(CONCEPTS.by_identifier.len() > 700, "{}", CONCEPTS.by_identifier.len());
        let by_label = Activity::find("walking").unwrap();
        assert_eq!(by_label.pref_label, "Walking");
        assert_eq!(Activity::find(&by_label.identifier), Some(by_label.clone()));
        assert_eq!(Activity::find(&by_label.id()), Some(by_label.clone()));
        assert!(by_label.id().starts_with("https://openactive.io/activity-list#"));
        assert_eq!(Activity::find("underwater knitting"), None);
    }

    #[test]
    fn unknown_and_too_many_activities_are_reported() {
        let errs = Activity::parse_all("/activities", &["Walking".into(), "nope".into()]).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].pointer, "/activities/1");
        let many: Vec<String> = (0..6).map(|_| "Walking".to_owned()).collect();
        assert_eq!(Activity::parse_all("/activities", &many).unwrap_err()[0].code, "TOO_MANY");
        assert_eq!(Activity::parse_all("/activities", &["Walking".into(), "walking".into()]).unwrap().len(), 1);
    }
}
