//! The Ringwatch web dashboard, embedded into the node binary.
//!
//! This crate owns the static files of the single-page dashboard (`index.html`, `style.css`, the
//! entry module `app.js` and the modules it imports) and the mapping from request path to file.
//! It promises that the page is self-contained: no CDN, no external fonts, no build step (the
//! scripts are plain ES modules the browser loads as they are); everything it loads comes from
//! the node that served it, and all its data comes from that node's HTTP API (`/api/...`).
//! Serving (routes, headers, caching) belongs to the node's HTTP module.

/// The page served at `/`.
pub const INDEX_HTML: &str = include_str!("../index.html");
/// The dashboard's entry module, served at `/app.js`: the monitor table, counts, cluster panel,
/// add form and live events.
pub const APP_JS: &str = include_str!("../app.js");
/// The dashboard style sheet, served at `/style.css`.
pub const STYLE_CSS: &str = include_str!("../style.css");

/// The modules `app.js` imports, directly or through one another, by file name (each served at
/// `/<name>`). The history views (heartbeat strips, response-time chart, daily availability)
/// are drawn as SVG by `charts.js`: no chart library, nothing fetched from elsewhere.
pub const MODULES: [(&str, &str); 10] = [
    ("util.js", include_str!("../util.js")),
    ("session.js", include_str!("../session.js")),
    ("fields.js", include_str!("../fields.js")),
    ("notifiers.js", include_str!("../notifiers.js")),
    ("maintenance.js", include_str!("../maintenance.js")),
    ("statuspages.js", include_str!("../statuspages.js")),
    ("detail.js", include_str!("../detail.js")),
    ("heartbeat.js", include_str!("../heartbeat.js")),
    ("history.js", include_str!("../history.js")),
    ("charts.js", include_str!("../charts.js")),
];

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The dashboard file for a request path, as `(content type with charset, body)`.
///
/// `path` is relative to the root: `""` and `"index.html"` give the page, `"app.js"`,
/// `"style.css"` and each module of [`MODULES`] their files; one leading `/` is accepted too.
/// Any other path is `None` (the caller answers 404).
pub fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path.strip_prefix('/').unwrap_or(path) {
        "" | "index.html" => Some((HTML, INDEX_HTML)),
        "app.js" => Some((JAVASCRIPT, APP_JS)),
        "style.css" => Some((CSS, STYLE_CSS)),
        other => MODULES
            .iter()
            .find(|(name, _)| *name == other)
            .map(|(_, text)| (JAVASCRIPT, *text)),
    }
}

/// Every script of the dashboard, as `(file name, text)`: `app.js` and its modules.
pub fn scripts() -> impl Iterator<Item = (&'static str, &'static str)> {
    std::iter::once(("app.js", APP_JS)).chain(MODULES)
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
        for (name, text) in MODULES {
            assert_eq!(asset(name), Some((JAVASCRIPT, text)), "{name}");
            assert_eq!(
                asset(&format!("/{name}")),
                Some((JAVASCRIPT, text)),
                "{name}"
            );
        }
        for path in ["", "app.js", "style.css"] {
            let (content_type, body) = asset(path).unwrap();
            assert!(content_type.ends_with("; charset=utf-8"), "{path}");
            assert!(!body.is_empty(), "{path}");
        }
    }

    #[test]
    fn index_loads_script_and_style_relatively() {
        assert!(INDEX_HTML.contains(r#"<script src="app.js" type="module">"#));
        assert!(INDEX_HTML.contains(r#"<link rel="stylesheet" href="style.css">"#));
    }

    /// Each `import ... from './x.js'` names a served module, so no import can 404.
    #[test]
    fn every_import_is_served() {
        let mut imported = Vec::new();
        for (name, text) in scripts() {
            for (at, _) in text.match_indices(" from '") {
                let rest = &text[at + " from '".len()..];
                let target = &rest[..rest.find('\'').expect("closing quote")];
                let file = target.strip_prefix("./").expect("relative import");
                assert!(
                    asset(file).is_some(),
                    "{name} imports {target}, which is not served"
                );
                imported.push(file);
            }
        }
        for (name, _) in MODULES {
            assert!(
                imported.contains(&name),
                "{name} is served but imported by no script"
            );
        }
    }

    /// The dashboard must work offline: no asset may point at another host. The only absolute
    /// URLs allowed are on `example.com`, the reserved documentation domain (input hints).
    /// Naming a scheme (`https:// URLs`), a probe's `tcp://host:port` or the SVG namespace
    /// (an XML name for `createElementNS`), none of which a browser loads, is not a reference.
    #[test]
    fn no_external_urls() {
        let pages = [("index.html", INDEX_HTML), ("style.css", STYLE_CSS)];
        for (name, text) in pages.into_iter().chain(scripts()) {
            for (at, _) in text.match_indices("://") {
                let after = &text[at + 3..];
                let host_len = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                    .unwrap_or(after.len());
                let allowed = host_len == 0
                    || text[..at].ends_with("tcp")
                    || (text[..at].ends_with("https") && after.starts_with("example.com/"))
                    || (text[..at].ends_with("http") && after.starts_with("www.w3.org/2000/svg'"));
                let context: String = text[at..].chars().take(40).collect();
                assert!(allowed, "{name} references {context}");
            }
            assert!(!text.contains("@import"), "{name} imports a style sheet");
        }
    }

    #[test]
    fn api_text_never_goes_through_inner_html() {
        // Monitor names, URLs, incident causes and notifier names are user input; the scripts
        // insert text with textContent and text nodes.
        for (name, text) in scripts() {
            for forbidden in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ] {
                assert!(!text.contains(forbidden), "{name} uses {forbidden}");
            }
        }
    }
}
