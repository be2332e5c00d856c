//! The Ringwatch web dashboard, embedded into the node binary.
//!
//! This crate owns the three static files of the single-page dashboard (`index.html`, `app.js`,
//! `style.css`) and the mapping from request path to file. It promises that the page is
//! self-contained: no CDN, no external fonts, no build step; everything it loads comes from
//! the node that served it, and all its data comes from that node's HTTP API (`/api/...`).
//! Serving (routes, headers, caching) belongs to the node's HTTP module.

/// The page served at `/`.
pub const INDEX_HTML: &str = include_str!("../index.html");
/// The dashboard script, served at `/app.js`.
pub const APP_JS: &str = include_str!("../app.js");
/// The dashboard style sheet, served at `/style.css`.
pub const STYLE_CSS: &str = include_str!("../style.css");

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The dashboard file for a request path, as `(content type with charset, body)`.
///
/// `path` is relative to the root: `""` and `"index.html"` give the page, `"app.js"` and
/// `"style.css"` their files; one leading `/` is accepted too. Any other path is `None`
/// (the caller answers 404).
pub fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path.strip_prefix('/').unwrap_or(path) {
        "" | "index.html" => Some((HTML, INDEX_HTML)),
        "app.js" => Some((JAVASCRIPT, APP_JS)),
        "style.css" => Some((CSS, STYLE_CSS)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_lookup() {
        assert_eq!(asset(""), Some((HTML, INDEX_HTML)));
        assert_eq!(asset("/"), Some((HTML, INDEX_HTML)));
        assert_eq!(asset("index.html"), Some((HTML, INDEX_HTML)));
        assert_eq!(asset("app.js"), Some((JAVASCRIPT, APP_JS)));
        assert_eq!(asset("/style.css"), Some((CSS, STYLE_CSS)));
        for unknown in [
            "favicon.ico",
            "app.js.map",
            "../Cargo.toml",
            "//app.js",
            "api/monitors",
        ] {
            assert_eq!(asset(unknown), None, "{unknown}");
        }
        for path in ["", "app.js", "style.css"] {
            let (content_type, body) = asset(path).unwrap();
            assert!(content_type.ends_with("; charset=utf-8"), "{path}");
            assert!(!body.is_empty(), "{path}");
        }
    }

    #[test]
    fn index_loads_script_and_style_relatively() {
        assert!(INDEX_HTML.contains(r#"<script src="app.js""#));
        assert!(INDEX_HTML.contains(r#"<link rel="stylesheet" href="style.css">"#));
    }

    /// The dashboard must work offline: no asset may point at another host. The only absolute
    /// URLs allowed are on `example.com`, the reserved documentation domain (input hints).
    #[test]
    fn no_external_urls() {
        for (name, text) in [
            ("index.html", INDEX_HTML),
            ("app.js", APP_JS),
            ("style.css", STYLE_CSS),
        ] {
            for (at, _) in text.match_indices("://") {
                let on_example =
                    text[..at].ends_with("https") && text[at..].starts_with("://example.com/");
                let context: String = text[at..].chars().take(40).collect();
                assert!(on_example, "{name} references {context}");
            }
            assert!(!text.contains("@import"), "{name} imports a style sheet");
        }
    }

    #[test]
    fn api_text_never_goes_through_inner_html() {
        // Monitor names and URLs are user input; the script inserts text with textContent.
        for forbidden in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
        ] {
            assert!(!APP_JS.contains(forbidden), "app.js uses {forbidden}");
        }
    }
}
