//! Reading an Open Referral UK 3.0 API's organisations (`/organizations`, ORUK pages) into
//! directory entries: organisations that are not on this platform become read-only groups with
//! their name, description, website, contact e-mail and registration numbers (unverified here).

use super::clip;
use scaffold_domain::group::{IdentifierScheme, Link, OrgIdentifier};
use scaffold_domain::source::ItemProblem;
use serde_json::Value;

/// One organisation as a directory entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Org {
    pub key: String,
    pub name: String,
    pub summary: String,
    pub description: Option<String>,
    pub website: Option<String>,
    pub email: Option<String>,
    pub identifiers: Vec<OrgIdentifier>,
}

/// One ORUK page: its organisations, the problems, and where it stands in the listing.
#[derive(Debug, Default)]
pub(crate) struct OrgPage {
    pub orgs: Vec<Org>,
    pub problems: Vec<ItemProblem>,
    pub last: bool,
    /// The listing's own count of organisations and pages.
    pub total_items: Option<u64>,
    pub total_pages: Option<u64>,
    /// Items without a readable id: the read cannot tell what is missing, so removes nothing.
    pub unkeyed: bool,
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// The organisations listing URL of an ORUK API given by its base (or by that listing itself),
/// keeping any query the operator gave (an API key).
pub(crate) fn listing_url(base: &str, page: u32, per_page: u32) -> String {
    let Ok(mut url) = url::Url::parse(base) else { return base.to_owned() };
    let path = url.path().trim_end_matches('/').to_owned();
    let path = path.strip_suffix("/organizations").unwrap_or(&path).to_owned();
    url.set_path(&format!("{path}/organizations"));
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "page" && k != "per_page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("page", &page.to_string())
        .append_pair("per_page", &per_page.to_string());
    url.into()
}

/// Reads one page of `/organizations`. `Err` when it is no ORUK page.
pub(crate) fn page(body: &str) -> Result<OrgPage, String> {
    let v: Value = serde_json::from_str(body).map_err(|_| "the answer is not JSON".to_owned())?;
    let contents = v
        .get("contents")
        .and_then(Value::as_array)
        .ok_or("this is not an Open Referral UK page (it has no contents)")?;
    let mut out = OrgPage {
        last: v.get("last_page").and_then(Value::as_bool).unwrap_or(contents.is_empty()),
        total_items: v.get("total_items").and_then(Value::as_u64),
        total_pages: v.get("total_pages").and_then(Value::as_u64),
        ..OrgPage::default()
    };
    for (n, o) in contents.iter().enumerate() {
        let key = match o.get("id") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            Some(Value::Number(x)) => x.to_string(),
            _ => {
                out.unkeyed = true;
                out.problems
                    .push(ItemProblem { item: format!("organisation {}", n + 1), message: "it has no id".to_owned() });
                continue;
            }
        };
        let Some(name) = text(o, "name") else {
            out.problems.push(ItemProblem { item: key, message: "it has no name".to_owned() });
            continue;
        };
        let description = text(o, "description").map(|d| clip(d, scaffold_domain::group::DESCRIPTION_MAX));
        let summary = description.as_deref().and_then(|d| d.lines().find(|l| !l.trim().is_empty())).map_or_else(
            || clip(name, scaffold_domain::group::SUMMARY_MAX),
            |l| clip(l.trim(), scaffold_domain::group::SUMMARY_MAX),
        );
        let website = text(o, "website")
            .or_else(|| text(o, "url"))
            .and_then(|u| scaffold_domain::text::http_url("/website", u, scaffold_domain::group::URL_MAX).ok());
        let email = text(o, "email").and_then(|e| scaffold_domain::text::email("/email", e).ok());
        let mut identifiers: Vec<OrgIdentifier> = o
            .get("organization_identifiers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let scheme = IdentifierScheme::parse(text(i, "identifier_scheme")?)?;
                let value = scheme.normalise("/identifier", text(i, "identifier")?).ok()?;
                Some(OrgIdentifier { scheme, value, verified_at: None, verified_by: None })
            })
            .collect();
        identifiers.sort_by_key(|i| i.scheme);
        identifiers.dedup_by_key(|i| i.scheme);
        out.orgs.push(Org {
            key,
            name: clip(name, scaffold_domain::group::NAME_MAX),
            summary,
            description,
            website,
            email,
            identifiers,
        });
    }
    Ok(out)
}

impl Org {
    /// The website as the group's one link.
    pub(crate) fn links(&self) -> Vec<Link> {
        self.website.iter().map(|u| Link { label: "Website".to_owned(), url: u.clone() }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn organisations_become_entries_and_bad_ones_are_reported() {
        let body = json!({ "total_items": 3, "total_pages": 1, "page_number": 1, "size": 3, "first_page": true,
            "last_page": true, "empty": false, "contents": [
                { "id": "o1", "name": "Wigan Foodbank", "description": "Food parcels.\nMondays.",
                  "website": "https://foodbank.example", "email": "help@foodbank.example",
                  "organization_identifiers": [{ "identifier_scheme": "GB-CHC", "identifier": "1 123 456" },
                                               { "identifier_scheme": "XX-ZZ", "identifier": "9" }] },
                { "id": "o2", "description": "No name" },
                { "name": "No id" } ] });
        let p = page(&body.to_string()).unwrap();
        assert!(p.last);
        assert!(p.unkeyed, "an item without an id makes the read unable to tell what is gone");
        assert_eq!(p.orgs.len(), 1);
        let o = &p.orgs[0];
        assert_eq!((o.summary.as_str(), o.website.as_deref()), ("Food parcels.", Some("https://foodbank.example")));
        assert_eq!(o.identifiers.len(), 1);
        assert_eq!(o.identifiers[0].value, "1123456");
        assert_eq!(p.problems.len(), 2);
        assert!(page("[]").is_err());
        assert_eq!(
            listing_url("https://d.example/oruk/", 2, 100),
            "https://d.example/oruk/organizations?page=2&per_page=100"
        );
        assert_eq!(
            listing_url("https://d.example/organizations", 1, 5),
            "https://d.example/organizations?page=1&per_page=5"
        );
        assert_eq!(
            listing_url("https://d.example/oruk?key=K&page=9", 3, 100),
            "https://d.example/oruk/organizations?key=K&page=3&per_page=100"
        );
    }
}
