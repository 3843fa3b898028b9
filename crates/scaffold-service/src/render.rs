//! Descriptions are written in CommonMark and served both as written and as safe HTML: raw HTML
//! in the source is shown as text, and links and images keep only `http`, `https` and `mailto`
//! destinations (or relative ones); `pulldown-cmark` escapes every text and attribute.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// CommonMark to HTML that is safe to put in a page.
pub fn markdown_html(source: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    let events = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: safe_url(dest_url), title, id })
        }
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The URL when its scheme is allowed (or it has none); `#` otherwise. Browsers ignore ASCII
/// whitespace and control characters inside a scheme, so they are ignored here too.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let squeezed: String = url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    let scheme = squeezed
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')));
    match scheme.as_deref() {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::markdown_html;

    #[test]
    fn commonmark_becomes_html() {
        assert_eq!(markdown_html("Bring your **charger**."), "<p>Bring your <strong>charger</strong>.</p>\n");
        assert_eq!(
            markdown_html("[Map](https://example.org/map?a=1&b=2)"),
            "<p><a href=\"https://example.org/map?a=1&amp;b=2\">Map</a></p>\n"
        );
        assert!(markdown_html("[Rules](/groups/x/rules)").contains("href=\"/groups/x/rules\""));
        assert!(markdown_html("[Mail](mailto:hello@example.org)").contains("href=\"mailto:hello@example.org\""));
    }

    #[test]
    fn raw_html_and_script_urls_are_neutralised() {
        let html = markdown_html("<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)>");
        assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        for bad in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "![x](vbscript:msgbox)",
            "<javascript:alert(1)>",
        ] {
            let html = markdown_html(bad);
            for attribute in ["href=\"", "src=\""] {
                for value in html.split(attribute).skip(1) {
                    let value = value.split('"').next().unwrap_or_default();
                    assert!(value == "#" || value.starts_with("http"), "{bad} → {html}");
                }
            }
        }
        assert_eq!(markdown_html("[x](<javascript:alert(1)>)"), "<p><a href=\"#\">x</a></p>\n");
        assert_eq!(markdown_html("![x](<JAVA\tSCRIPT:x>)"), "<p><img src=\"#\" alt=\"x\" /></p>\n");
        let quoted = markdown_html("[x](https://example.org/\"onmouseover=\"alert(1))");
        assert!(!quoted.contains("\"onmouseover"), "{quoted}");
    }
}
