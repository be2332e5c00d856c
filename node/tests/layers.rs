//! The layer rule of `node/src`, checked on the source: imports only point down.
//!
//! Each top-level module of the node library sits in a layer (docs/architecture.md draws
//! them); code of a module may name (`crate::x`) only modules of lower layers. Inside the
//! top layers, where several modules build on each other, each has its own rank, so the
//! rule also rules out import cycles between top-level modules. Test code (`tests.rs` files
//! and `#[cfg(test)] mod tests` blocks) may reach anything.
//!
//! A new top-level module must be given a place here; the test fails until it is.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom to top. Modules on one line form one layer and may not import each other.
const LAYERS: &[(&str, &[&str])] = &[
    ("domain: the rules, no I/O, no actor types", &["domain"]),
    ("basics: time and configuration", &["clock", "config"]),
    (
        "state: storage, the live view, metrics, probing",
        &["store"],
    ),
    ("state", &["live", "probe", "state"]),
    ("state", &["metrics"]),
    ("wiring: shared node state and typed links", &["links"]),
    ("wiring", &["context"]),
    (
        "definitions, history and access",
        &["catalog", "history", "access", "maintenance", "pages"],
    ),
    ("alerting", &["alert"]),
    ("cluster", &["cluster"]),
    ("HTTP API", &["api"]),
    ("actors", &["actors"]),
    ("the node root and the command line", &["node", "cli"]),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read node/src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file that is not test code, without comments.
fn non_test_code(text: &str) -> String {
    let cut = text.find("#[cfg(test)]\nmod tests").unwrap_or(text.len());
    text[..cut]
        .lines()
        .map(|line| match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a piece of code names: `crate::x...` and `use crate::{x, y::z}`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find("};").unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

/// Every `(file, module it is in, module it names)` that breaks the rule.
fn violations(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let mut found = Vec::new();
    for path in files {
        let rel = path.strip_prefix(root).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_owned())
            .expect("a file name");
        // Test code: `tests` and the fuzz targets (`fuzz`, compiled only into tests).
        if matches!(top.as_str(), "lib" | "main" | "tests" | "fuzz") || rel.ends_with("tests.rs") {
            continue;
        }
        let Some(own) = rank(&top) else {
            found.push(format!(
                "{}: module `{top}` has no layer in node/tests/layers.rs",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("read a source file");
        for named in named_modules(&non_test_code(&text)) {
            if named == top {
                continue;
            }
            match rank(&named) {
                Some(r) if r < own => {}
                Some(r) => found.push(format!(
                    "{}: `{top}` ({}) imports `{named}` ({}), which is not below it",
                    rel.display(),
                    LAYERS[own].0,
                    LAYERS[r].0
                )),
                None => {} // not a module of ours (a macro path, say)
            }
        }
    }
    found
}

#[test]
fn imports_only_point_down() {
    let found = violations(&src());
    assert!(
        found.is_empty(),
        "layer rule broken (see docs/architecture.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_wrong_import() {
    let dir = tempfile::tempdir().expect("temp dir");
    let domain = dir.path().join("domain");
    std::fs::create_dir(&domain).expect("domain dir");
    std::fs::write(domain.join("mod.rs"), "use crate::store::Store;\n").expect("write");
    std::fs::write(
        dir.path().join("store.rs"),
        "use crate::{domain::x, clock};\n// crate::api in a comment\n\
         #[cfg(test)]\nmod tests {\n    use crate::node::Node;\n}\n",
    )
    .expect("write");
    let found = violations(dir.path());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].contains("`domain`") && found[0].contains("`store`"));
}
