//! The GraphQL explorer (GraphiQL) on `GET /graphql`, when `graphql.graphiql` is on: a page and
//! its scripts and styles, all served from the binary (`assets/graphiql`, pinned and hashed), under
//! a Content-Security-Policy that allows nothing from elsewhere and no inline script, and that
//! cannot be framed. It holds no data and calls nothing but `/graphql` on its own origin.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::io::Read;

/// The page's policy: scripts, styles, fonts and images from this origin only (GraphiQL's
/// stylesheet carries its icons and fonts as `data:` URLs), requests to this origin only.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Where the assets are served; the version changes the URL when they change.
const BASE: &str = "/graphql/assets/graphiql-3.8.3";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    gzipped: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "graphiql.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql/graphiql.min.js.gz"),
    },
    Asset {
        name: "graphiql.min.css",
        content_type: "text/css; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql/graphiql.min.css.gz"),
    },
    Asset {
        name: "react.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql/react.production.min.js.gz"),
    },
    Asset {
        name: "react-dom.production.min.js",
        content_type: "text/javascript; charset=utf-8",
        gzipped: include_bytes!("../assets/graphiql/react-dom.production.min.js.gz"),
    },
];

const INIT: &str = include_str!("../assets/graphiql/init.js");

/// The page: no inline script or style, every URL on this origin.
pub fn page() -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GraphQL explorer · Community Scaffold</title>
<link rel="stylesheet" href="{BASE}/graphiql.min.css">
</head>
<body>
<div id="graphiql">Loading the GraphQL explorer…</div>
<script src="{BASE}/react.production.min.js"></script>
<script src="{BASE}/react-dom.production.min.js"></script>
<script src="{BASE}/graphiql.min.js"></script>
<script src="{BASE}/init.js"></script>
</body>
</html>
"#
    )
}

pub fn page_response() -> Response {
    let mut res = (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page()).into_response();
    let _ = res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    let _ = res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such asset").into_response()
}

/// `GET /graphql/assets/{version}/{file}`: gzipped to clients that accept it, plain otherwise.
pub(crate) async fn asset(
    State(enabled): State<bool>,
    Path((version, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if !enabled || format!("/graphql/assets/{version}") != BASE {
        return not_found();
    }
    let cache = [(header::CACHE_CONTROL, "public, max-age=86400")];
    if name == "init.js" {
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], cache, INIT)
            .into_response();
    }
    let Some(a): Option<&'static Asset> = ASSETS.iter().find(|a| a.name == name) else { return not_found() };
    let gzip_ok = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.split(';').next().is_some_and(|x| x.trim().eq_ignore_ascii_case("gzip")));
    let vary = [(header::VARY, "accept-encoding")];
    if gzip_ok {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, a.content_type), (header::CONTENT_ENCODING, "gzip")],
            cache,
            vary,
            a.gzipped,
        )
            .into_response();
    }
    match plain(a) {
        Ok(bytes) => (StatusCode::OK, [(header::CONTENT_TYPE, a.content_type)], cache, vary, bytes).into_response(),
        Err(e) => {
            tracing::error!(error = %e, asset = a.name, "a built-in explorer asset does not decompress");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// An asset decompressed, once per process (for the rare client that does not take gzip).
fn plain(a: &'static Asset) -> std::io::Result<&'static [u8]> {
    static PLAIN: std::sync::OnceLock<Vec<std::io::Result<Vec<u8>>>> = std::sync::OnceLock::new();
    let all = PLAIN.get_or_init(|| ASSETS.iter().map(|x| gunzip(x.gzipped)).collect());
    let i = ASSETS.iter().position(|x| x.name == a.name).unwrap_or(0);
    match all.get(i) {
        Some(Ok(bytes)) => Ok(bytes.as_slice()),
        Some(Err(e)) => Err(std::io::Error::new(e.kind(), e.to_string())),
        None => Err(std::io::ErrorKind::NotFound.into()),
    }
}

fn gunzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let _ = flate2::read::GzDecoder::new(bytes).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_assets_are_the_published_builds() {
        let expected = [
            ("graphiql.min.js", "22faab94067b695e5f7959619fbe686ebcc8955002a0c97d986bcbba4ad4bc2c"),
            ("graphiql.min.css", "b1868247f8e0502cd869e581f5f3cb55b334862e7f51b1d6cbace11059b9adc2"),
            ("react.production.min.js", "d949f1c3687aedadcedac85261865f29b17cd273997e7f6b2bfc53b2f9d4c4dd"),
            ("react-dom.production.min.js", "35f4f974f4b2bcd44da73963347f8952e341f83909e4498227d4e26b98f66f0d"),
        ];
        for (name, hash) in expected {
            let a = ASSETS.iter().find(|a| a.name == name).unwrap();
            let digest = Sha256::digest(gunzip(a.gzipped).unwrap());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, hash, "{name}");
        }
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere_and_runs_no_inline_script() {
        let p = page();
        assert!(!p.contains("http://") && !p.contains("https://") && !p.contains("//unpkg"), "{p}");
        assert_eq!(p.matches("<script src=\"/graphql/assets/").count(), 4);
        assert!(!p.contains("<script>"), "no inline script");
        for directive in ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "connect-src 'self'"] {
            assert!(PAGE_CSP.contains(directive), "{directive}");
        }
        assert!(!PAGE_CSP.contains("unsafe"));
    }
}
