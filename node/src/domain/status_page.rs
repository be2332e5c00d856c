//! The status page spec users write (API, config file): its fields, defaults and validation.
//! One rule for every path a page takes: `POST`/`PATCH /api/status-pages`, `[[status_pages]]`
//! in the config file, and a page a peer sends ([`validate`]).
//!
//! What the spec decides: a slug is 1-64 of `a-z`, `0-9` and `-`; texts have bounded lengths
//! and no control characters (but for line breaks in descriptions and announcement texts);
//! monitor ids are plain names. Whether the monitors exist, and whether a slug is taken, are
//! the cluster's state, checked by the caller that holds it ([`crate::pages`]).

use ringwatch_proto::{Announcement, PageGroup, Rev, StatusPage};
use serde::Deserialize;

use super::names::{PLAIN_NAME_RULE, is_plain_name};
use super::spec::MAX_DEFINITION_BYTES;

/// Longest slug, in characters.
pub const MAX_SLUG_CHARS: usize = 64;
/// Longest title (page, group, announcement), in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest description or announcement text, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Most groups on a page.
pub const MAX_GROUPS: usize = 100;
/// Most monitors on a page, all groups together (a page of more is refused with 400).
pub const MAX_PAGE_MONITORS: usize = 1000;

/// What `POST /api/status-pages` takes. A `PATCH` is this input with the page's current
/// fields under the patch's ([`patched`]); a `[[status_pages]]` table of the config file is
/// this input plus an `id` ([`StatusPageSeed`]).
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusPageInput {
    /// `/status/{slug}`: 1-64 of `a-z`, `0-9`, `-`; unique.
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub groups: Vec<PageGroup>,
    /// Served without a token (default true).
    #[serde(default = "yes")]
    pub public: bool,
    /// Show monitors' URLs and last errors (default false).
    #[serde(default)]
    pub show_details: bool,
    #[serde(default)]
    pub announcement: Option<Announcement>,
}

fn yes() -> bool {
    true
}

/// Why a spec is refused: a 400, with the reason for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PageError(pub String);

impl StatusPageInput {
    /// A validated page with id `id` (revision and creation time are set by the table).
    pub fn into_page(self, id: String) -> Result<StatusPage, PageError> {
        let page = StatusPage {
            id,
            slug: self.slug,
            title: self.title,
            description: self.description,
            groups: self.groups,
            public: self.public,
            show_details: self.show_details,
            announcement: self.announcement,
            created_ms: 0,
            rev: Rev::default(),
            deleted: false,
        };
        validate(&page)?;
        Ok(page)
    }

    /// The input that makes `p` again.
    pub fn of(p: &StatusPage) -> StatusPageInput {
        StatusPageInput {
            slug: p.slug.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            groups: p.groups.clone(),
            public: p.public,
            show_details: p.show_details,
            announcement: p.announcement.clone(),
        }
    }

    /// Every monitor id the page names, in order, once each.
    pub fn monitor_ids(&self) -> Vec<&str> {
        let mut seen = std::collections::HashSet::new();
        self.groups
            .iter()
            .flat_map(|g| g.monitors.iter().map(String::as_str))
            .filter(|id| seen.insert(*id))
            .collect()
    }
}

/// A status page of the config file: a fixed id, then the fields of the API's input.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusPageSeed {
    pub id: String,
    pub spec: StatusPageInput,
}

impl<'de> Deserialize<'de> for StatusPageSeed {
    /// `id` plus the input's fields in one table (no `flatten`: it cannot refuse unknown
    /// fields, and a misspelt key must not be ignored).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (id, spec) = super::spec::id_and_rest(d, "status page")?;
        Ok(StatusPageSeed { id, spec })
    }
}

impl StatusPageSeed {
    /// The page, validated like an API request, with revision and creation time zero: every
    /// node's copy of the file yields the same record, and any later edit wins over it.
    pub fn to_page(&self) -> Result<StatusPage, PageError> {
        self.spec.clone().into_page(self.id.clone())
    }
}

/// `current` with the fields of `patch` (a JSON object) written over it. Unknown fields,
/// wrong types and `id` are refused.
pub fn patched(
    current: &StatusPage,
    patch: serde_json::Map<String, serde_json::Value>,
) -> Result<StatusPageInput, PageError> {
    if patch.contains_key("id") {
        return Err(PageError("id cannot be changed".into()));
    }
    let serde_json::Value::Object(mut fields) =
        serde_json::to_value(StatusPageInput::of(current)).map_err(|e| PageError(e.to_string()))?
    else {
        return Err(PageError("the page is not an object".into()));
    };
    fields.extend(patch);
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| PageError(format!("malformed status page: {e}")))
}

/// Whether `slug` may be a page's address: [`MAX_SLUG_CHARS`] at most of `a-z`, `0-9`, `-`.
pub fn is_slug(slug: &str) -> bool {
    (1..=MAX_SLUG_CHARS).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn text(what: &str, s: &str, max: usize, blank_ok: bool, lines_ok: bool) -> Result<(), PageError> {
    if !blank_ok && s.trim().is_empty() {
        return Err(PageError(format!("{what} must not be blank")));
    }
    if s.chars().count() > max {
        return Err(PageError(format!(
            "{what} must be at most {max} characters"
        )));
    }
    let bad = |c: char| c.is_control() && !(lines_ok && matches!(c, '\n' | '\r' | '\t'));
    if s.chars().any(bad) {
        return Err(PageError(format!(
            "{what} must not contain control characters"
        )));
    }
    Ok(())
}

/// Checks a page as the API does, but for what needs the cluster's state (monitors that
/// exist, slugs taken): the one check of input, config seeds and peers' records.
pub fn validate(p: &StatusPage) -> Result<(), PageError> {
    if !is_plain_name(&p.id) {
        return Err(PageError(format!("id must be {PLAIN_NAME_RULE}")));
    }
    if !is_slug(&p.slug) {
        return Err(PageError(format!(
            "slug {:?} must be 1 to {MAX_SLUG_CHARS} of a-z, 0-9 and '-'",
            p.slug
        )));
    }
    text("title", &p.title, MAX_TITLE_CHARS, false, false)?;
    text("description", &p.description, MAX_TEXT_CHARS, true, true)?;
    if p.groups.len() > MAX_GROUPS {
        return Err(PageError(format!("a page has at most {MAX_GROUPS} groups")));
    }
    let mut count = 0;
    for (i, g) in p.groups.iter().enumerate() {
        text(
            &format!("groups[{i}].name"),
            &g.name,
            MAX_TITLE_CHARS,
            true,
            false,
        )?;
        count += g.monitors.len();
        if let Some(bad) = g.monitors.iter().find(|m| !is_plain_name(m)) {
            return Err(PageError(format!(
                "groups[{i}] names the monitor {bad:?}, not an id ({PLAIN_NAME_RULE})"
            )));
        }
    }
    if count > MAX_PAGE_MONITORS {
        return Err(PageError(format!(
            "a page shows at most {MAX_PAGE_MONITORS} monitors"
        )));
    }
    if let Some(a) = &p.announcement {
        text(
            "announcement.title",
            &a.title,
            MAX_TITLE_CHARS,
            false,
            false,
        )?;
        text("announcement.text", &a.text, MAX_TEXT_CHARS, true, true)?;
        if let (Some(s), Some(e)) = (a.start_ms, a.end_ms)
            && e <= s
        {
            return Err(PageError(
                "announcement.end_ms must be after its start_ms".into(),
            ));
        }
    }
    // Each field within its limit may still add up to more than a peer accepts.
    let size = ringwatch_proto::encoded_len(p);
    if size > MAX_DEFINITION_BYTES {
        return Err(PageError(format!(
            "the page takes {size} bytes encoded; at most {MAX_DEFINITION_BYTES} are allowed \
             (shorter names, or fewer groups)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> Result<StatusPage, PageError> {
        serde_json::from_value::<StatusPageInput>(json)
            .map_err(|e| PageError(e.to_string()))?
            .into_page("p-1".into())
    }

    #[test]
    fn defaults_are_public_without_details() {
        let p = input(serde_json::json!({"slug": "acme", "title": "Acme"})).unwrap();
        assert!(p.public && !p.show_details && p.groups.is_empty());
        assert!(p.announcement.is_none());
    }

    #[test]
    fn slugs_are_lowercase_digits_and_dashes_up_to_64() {
        assert!(is_slug("acme-2") && is_slug(&"a".repeat(64)));
        for bad in ["", "Acme", "a_b", "a/b", "a b", "é", &"a".repeat(65)] {
            assert!(!is_slug(bad), "{bad:?}");
            let err = input(serde_json::json!({"slug": bad, "title": "t"})).unwrap_err();
            assert!(err.0.contains("slug"), "{err}");
        }
    }

    #[test]
    fn bad_texts_groups_and_windows_are_refused() {
        let cases = [
            (serde_json::json!({"slug": "a", "title": " "}), "title"),
            (
                serde_json::json!({"slug": "a", "title": "a\u{7}"}),
                "control",
            ),
            (
                serde_json::json!({"slug": "a", "title": "t", "groups": [{"name": "g", "monitors": ["a b"]}]}),
                "not an id",
            ),
            (
                serde_json::json!({"slug": "a", "title": "t", "announcement": {"title": "x", "text": "", "start_ms": 5, "end_ms": 5}}),
                "end_ms",
            ),
            (
                serde_json::json!({"slug": "a", "title": "t", "announcement": {"title": "x", "text": "", "severity": "loud"}}),
                "unknown variant",
            ),
            (
                serde_json::json!({"slug": "a", "title": "t", "colour": 1}),
                "unknown field",
            ),
        ];
        for (json, why) in cases {
            let err = input(json.clone()).unwrap_err();
            assert!(err.0.contains(why), "{json}: {err}");
        }
    }

    #[test]
    fn a_page_too_large_for_a_peer_is_refused() {
        // 100 groups of 200 four-byte characters and 10 ids of 64: each within its limit.
        let name = "\u{1F600}".repeat(MAX_TITLE_CHARS);
        let ids = vec![format!("m-{}", "a".repeat(62)); 10];
        let groups: Vec<_> = (0..MAX_GROUPS)
            .map(|_| serde_json::json!({"name": name, "monitors": ids}))
            .collect();
        let err =
            input(serde_json::json!({"slug": "a", "title": "t", "groups": groups})).unwrap_err();
        assert!(err.0.contains("bytes encoded"), "{err}");
        let fewer = &groups[..MAX_GROUPS / 4];
        input(serde_json::json!({"slug": "a", "title": "t", "groups": fewer})).unwrap();
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name_and_refuses_unknown_fields() {
        let p = input(serde_json::json!({
            "slug": "acme", "title": "Acme", "public": false,
            "groups": [{"name": "Web", "monitors": ["m-1"]}],
            "announcement": {"title": "Soon", "text": "x"}
        }))
        .unwrap();
        let obj = |v: serde_json::Value| v.as_object().unwrap().clone();
        let changed = patched(
            &p,
            obj(serde_json::json!({"title": "New", "announcement": null})),
        )
        .unwrap()
        .into_page(p.id.clone())
        .unwrap();
        assert_eq!(changed.title, "New");
        assert!(changed.announcement.is_none() && !changed.public);
        assert_eq!(changed.groups, p.groups);
        assert!(patched(&p, obj(serde_json::json!({"titel": "x"}))).is_err());
        assert!(patched(&p, obj(serde_json::json!({"id": "x"}))).is_err());
    }

    #[test]
    fn announcements_show_within_their_window() {
        let a = Announcement {
            title: "t".into(),
            text: String::new(),
            severity: Default::default(),
            start_ms: Some(10),
            end_ms: Some(20),
        };
        assert!(!a.shows_at(9) && a.shows_at(10) && a.shows_at(19) && !a.shows_at(20));
    }
}
