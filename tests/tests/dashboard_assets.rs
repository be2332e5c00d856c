//! The dashboard as a browser loads it from a running node (SPEC "GET /": the dashboard): the
//! page, its style sheet, and every script module it reaches through `import`, each served by
//! the node itself with a type the browser accepts, so no load of the page can end in a 404 or
//! a refused module.

use std::collections::BTreeSet;

use ringwatch_tests::NodeProc;

/// The values of `attr="..."` in `html` on tags that start with `tag`.
fn attr_values(html: &str, tag: &str, attr: &str) -> Vec<String> {
    let needle = format!("{attr}=\"");
    html.match_indices(tag)
        .filter_map(|(at, _)| {
            let tag_text = &html[at..at + html[at..].find('>')?];
            let start = tag_text.find(&needle)? + needle.len();
            let len = tag_text[start..].find('"')?;
            Some(tag_text[start..start + len].to_owned())
        })
        .collect()
}

/// The relative modules a script imports (`... from './x.js'`), as paths from the root.
fn imports(script: &str) -> Vec<String> {
    script
        .match_indices(" from '")
        .filter_map(|(at, found)| {
            let rest = &script[at + found.len()..];
            let target = &rest[..rest.find('\'')?];
            Some(target.trim_start_matches("./").to_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_page_and_everything_it_loads() {
    let node = NodeProc::start("dash").await;
    let api = node.api();

    let page = api.get("/").await;
    page.expect_status(200);
    let html = page.text();
    // HEAD (uptime checks of the dashboard itself, link checkers): GET's headers, no body.
    let head = api.send_with(reqwest::Method::HEAD, "/", &[]).await;
    head.expect_status(200);
    assert_eq!(head.header("content-type"), page.header("content-type"));
    assert!(head.body.is_empty());
    let styles = attr_values(&html, "<link rel=\"stylesheet\"", "href");
    assert_eq!(styles, ["style.css"], "{}", page.describe());
    let css = api.get("/style.css").await;
    css.expect_status(200);
    let css_type = css.header("content-type").unwrap_or_default();
    assert!(
        css_type.starts_with("text/css"),
        "style.css served as {css_type:?}"
    );

    let mut pending = attr_values(&html, "<script", "src");
    assert_eq!(pending, ["app.js"], "{}", page.describe());
    let mut loaded = BTreeSet::new();
    while let Some(path) = pending.pop() {
        if !loaded.insert(path.clone()) {
            continue;
        }
        let script = api.get(&format!("/{path}")).await;
        script.expect_status(200);
        let js_type = script.header("content-type").unwrap_or_default();
        assert!(
            js_type.starts_with("text/javascript"),
            "{path} served as {js_type:?}: a browser refuses such a module"
        );
        pending.extend(imports(&script.text()));
    }
    for module in [
        "app.js",
        "util.js",
        "fields.js",
        "notifiers.js",
        "maintenance.js",
        "detail.js",
    ] {
        assert!(
            loaded.contains(module),
            "{module} is not reached from app.js: {loaded:?}"
        );
    }

    api.get("/no-such-module.js").await.expect_status(404);
}
