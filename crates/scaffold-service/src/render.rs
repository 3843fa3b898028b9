//! Descriptions are written in CommonMark and served both as written and as safe HTML: raw HTML
//! in the source is shown as text, and links and images keep only `http`, `https` and `mailto`
//! destinations (or relative ones); `pulldown-cmark` escapes every text and attribute.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// CommonMark to HTML that is safe to put in a page.
pub fn markdown_html(source: &str) -> String {
    markdown_html_under(source, 0)
}

/// The same, for a section of a page under a heading of level `level`: the text's headings start
/// one level below it (`#` becomes `<h3>` under an `<h2>`), so the page's outline stays whole.
pub fn markdown_html_under(source: &str, level: usize) -> String {
    let nested = |l: HeadingLevel| HeadingLevel::try_from((l as usize + level).min(6)).unwrap_or(HeadingLevel::H6);
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
        Event::Start(Tag::Heading { level: l, id, classes, attrs }) => {
            Event::Start(Tag::Heading { level: nested(l), id, classes, attrs })
        }
        Event::End(TagEnd::Heading(l)) => Event::End(TagEnd::Heading(nested(l))),
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// The URL when its scheme is allowed (or it has none); `#` otherwise. Browsers ignore ASCII
/// whitespace and control characters inside a scheme, so they are ignored here too. Anything
/// before a `:` that comes before the first `/`, `?` or `#` counts as a scheme, even one a browser
/// would not take as one (`:x`, `a b:x`): such a link is refused rather than guessed at.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let squeezed: String = url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    let scheme = squeezed.split_once(':').map(|(s, _)| s.to_ascii_lowercase()).filter(|s| !s.contains(['/', '?', '#']));
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
    fn headings_nest_under_the_section_they_are_shown_in() {
        assert_eq!(super::markdown_html_under("# Rules\n\n## Kindness", 2), "<h3>Rules</h3>\n<h4>Kindness</h4>\n");
        assert_eq!(super::markdown_html_under("##### Deep", 2), "<h6>Deep</h6>\n");
        assert_eq!(markdown_html("# Top"), "<h1>Top</h1>\n");
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
            // Attributes live inside tags; text may say `href="` too (quotes need no escaping there).
            let tags: Vec<&str> = html.split('<').skip(1).map(|t| t.split('>').next().unwrap_or_default()).collect();
            for attribute in ["href=\"", "src=\""] {
                for value in tags.iter().flat_map(|t| t.split(attribute).skip(1)) {
                    let value = value.split('"').next().unwrap_or_default();
                    assert!(value == "#" || value.starts_with("http"), "{bad} → {html}");
                }
            }
        }
        assert_eq!(markdown_html("[x](<javascript:alert(1)>)"), "<p><a href=\"#\">x</a></p>\n");
        assert_eq!(markdown_html("[](:)"), "<p><a href=\"#\"></a></p>\n");
        assert_eq!(markdown_html("![x](<JAVA\tSCRIPT:x>)"), "<p><img src=\"#\" alt=\"x\" /></p>\n");
        let quoted = markdown_html("[x](https://example.org/\"onmouseover=\"alert(1))");
        assert!(!quoted.contains("\"onmouseover"), "{quoted}");
    }

    /// The tags the renderer may emit; everything else a writer types arrives as text.
    const ALLOWED: [&str; 26] = [
        "p",
        "em",
        "strong",
        "del",
        "a",
        "img",
        "code",
        "pre",
        "ul",
        "ol",
        "li",
        "blockquote",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "br",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ];

    /// Text built from the pieces that make Markdown and HTML dangerous.
    fn writing() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy as _;
        let pieces = proptest::sample::select(vec![
            "a",
            " ",
            "<",
            ">",
            "\"",
            "'",
            "=",
            "/",
            ":",
            "(",
            ")",
            "[",
            "]",
            "!",
            "*",
            "#",
            "&",
            ";",
            "\n",
            "\t",
            "-",
            "`",
            "javascript",
            "script",
            "onerror",
            "img",
            "iframe",
            "data",
            "vbscript",
            "href",
            "src",
            "&#106;",
            "http",
            "mailto",
            "\\",
        ]);
        proptest::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        /// Whatever a group writes (Markdown mixed with HTML, links with any scheme, stray
        /// quotes), the page gets only the renderer's own tags, no event-handler attributes, and
        /// only http, https, mailto, relative or `#` link targets.
        #[test]
        fn any_text_renders_to_safe_html(s in writing()) {
            let html = markdown_html(&s);
            for tag in html.split('<').skip(1) {
                let name: String =
                    tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                proptest::prop_assert!(ALLOWED.contains(&name.as_str()), "<{name}> in {html:?} from {s:?}");
                let inside = tag.split('>').next().unwrap_or_default().to_ascii_lowercase();
                proptest::prop_assert!(!inside.contains(" on"), "an event attribute in {html:?} from {s:?}");
            }
            // Attributes live inside tags; text may say `href="` too (quotes need no escaping there).
            let tags: Vec<&str> = html.split('<').skip(1).map(|t| t.split('>').next().unwrap_or_default()).collect();
            for attribute in ["href=\"", "src=\""] {
                for value in tags.iter().flat_map(|t| t.split(attribute).skip(1)) {
                    let value = value.split('"').next().unwrap_or_default().to_ascii_lowercase();
                    let scheme = value.split_once(':').map(|(x, _)| x.to_owned());
                    let ok = match scheme {
                        None => true,
                        Some(x) if x.contains(['/', '?', '#']) => true,
                        Some(x) => matches!(x.as_str(), "http" | "https" | "mailto"),
                    };
                    proptest::prop_assert!(ok, "{value} in {html:?} from {s:?}");
                }
            }
        }
    }
}
