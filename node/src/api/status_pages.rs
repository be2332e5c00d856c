//! Handlers of `/api/status-pages...` (the definitions: read scope to list, write scope to
//! change, as every `/api` route) and of the pages themselves, `/status/{slug}` (HTML) and
//! `/status/{slug}.json`, which are outside `/api`: a public page needs no token, another
//! needs read scope, checked here ([`crate::access::require`]).
//!
//! A page is gathered from what the API's monitor view says of each monitor (its state) and
//! from the history the node keeps (the status timeline and the incidents made from it), then
//! shaped by `domain::page_model` and rendered by [`super::page_html`].

use std::sync::Arc;

use bytes::Bytes;
use ringwatch_proto::{Announcement, PageGroup, Scope, StatusPage};
use warp::http::StatusCode;
use warp::reply::{Reply, Response, json, with_header, with_status};

use super::error::{ApiError, ErrorBody};
use super::guard::Caller;
use crate::access;
use crate::clock::now_ms;
use crate::context::Ctx;
use crate::domain::page_model::{
    self, GroupFacts, GroupView, IncidentRow, MonitorFacts, Outage, Overall,
};
use crate::domain::status_page::{self, StatusPageInput};
use crate::pages::{self, EditError};

type ApiResult = Result<Response, ApiError>;

impl From<EditError> for ApiError {
    fn from(e: EditError) -> Self {
        match e {
            EditError::Invalid(why) => ApiError::bad_request(why.0),
            EditError::Store(e) => e.into(),
        }
    }
}

/// A status page definition as the API answers it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StatusPageView {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub groups: Vec<PageGroup>,
    pub public: bool,
    pub show_details: bool,
    pub announcement: Option<Announcement>,
    /// Unix ms of its creation.
    pub created_ms: u64,
    /// Where the page is served: `/status/{slug}`.
    pub path: String,
}

impl StatusPageView {
    fn new(p: &StatusPage) -> Self {
        StatusPageView {
            id: p.id.clone(),
            slug: p.slug.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
            groups: p.groups.clone(),
            public: p.public,
            show_details: p.show_details,
            announcement: p.announcement.clone(),
            created_ms: p.created_ms,
            path: format!("/status/{}", p.slug),
        }
    }
}

fn input_of(body: &Bytes) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed status page: {e}")))
}

fn live_page(ctx: &Ctx, id: &str) -> Result<Arc<StatusPage>, ApiError> {
    ctx.status_pages
        .get_live(id)
        .ok_or_else(|| ApiError::not_found(format!("status page {id:?}")))
}

/// Makes a status page, cluster-wide.
#[utoipa::path(
    post,
    path = "/api/status-pages",
    operation_id = "create_status_page",
    tag = "status pages",
    request_body = StatusPageInput,
    responses(
        (status = 201, description = "The page", body = StatusPageView),
        (status = 400, description = "Malformed JSON, unknown fields, a bad or taken slug, an unknown monitor", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    ),
)]
pub async fn create(ctx: Ctx, body: Bytes) -> ApiResult {
    let input: StatusPageInput =
        serde_json::from_value(serde_json::Value::Object(input_of(&body)?))
            .map_err(|e| ApiError::bad_request(format!("malformed status page: {e}")))?;
    let made = pages::create(&ctx, input)?;
    Ok(with_status(json(&StatusPageView::new(&made)), StatusCode::CREATED).into_response())
}

/// Every status page, oldest first.
#[utoipa::path(
    get,
    path = "/api/status-pages",
    operation_id = "list_status_pages",
    tag = "status pages",
    responses((status = 200, description = "The pages", body = [StatusPageView])),
)]
pub async fn list(ctx: Ctx) -> ApiResult {
    let views: Vec<StatusPageView> = pages::live(&ctx)
        .iter()
        .map(|p| StatusPageView::new(p))
        .collect();
    Ok(json(&views).into_response())
}

/// One status page definition.
#[utoipa::path(
    get,
    path = "/api/status-pages/{id}",
    operation_id = "get_status_page",
    tag = "status pages",
    params(("id" = String, Path, description = "Status page id (`p-...`)")),
    responses(
        (status = 200, description = "The page", body = StatusPageView),
        (status = 404, description = "No status page with this id", body = ErrorBody),
    ),
)]
pub async fn get(id: String, ctx: Ctx) -> ApiResult {
    let page = live_page(&ctx, &id)?;
    Ok(json(&StatusPageView::new(&page)).into_response())
}

/// Changes the given fields of a status page; `null` clears the announcement.
#[utoipa::path(
    patch,
    path = "/api/status-pages/{id}",
    operation_id = "patch_status_page",
    tag = "status pages",
    params(("id" = String, Path, description = "Status page id (`p-...`)")),
    request_body(content = Object, description = "Any fields of the create's body"),
    responses(
        (status = 200, description = "The changed page", body = StatusPageView),
        (status = 400, description = "Malformed JSON, unknown fields, a bad or taken slug, an unknown monitor", body = ErrorBody),
        (status = 404, description = "No status page with this id", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    ),
)]
pub async fn patch(id: String, ctx: Ctx, body: Bytes) -> ApiResult {
    let current = live_page(&ctx, &id)?;
    let input =
        status_page::patched(&current, input_of(&body)?).map_err(|e| ApiError::bad_request(e.0))?;
    let changed = pages::update(&ctx, &current, input)?;
    Ok(json(&StatusPageView::new(&changed)).into_response())
}

/// Deletes a status page on every node.
#[utoipa::path(
    delete,
    path = "/api/status-pages/{id}",
    operation_id = "delete_status_page",
    tag = "status pages",
    params(("id" = String, Path, description = "Status page id (`p-...`)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No status page with this id", body = ErrorBody),
    ),
)]
pub async fn delete(id: String, ctx: Ctx) -> ApiResult {
    if pages::delete(&ctx, &id)? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("status page {id:?}")))
    }
}

/// What `/status/{slug}.json` answers, and what the HTML page shows.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PageData {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// `operational`, `partial_outage` or `major_outage`: of the monitors up or down, none
    /// down, at most half down, more than half down.
    pub overall: Overall,
    /// "All systems operational", "Partial outage" or "Major outage".
    pub overall_text: &'static str,
    /// Only while it shows (between its start and end).
    pub announcement: Option<Announcement>,
    pub groups: Vec<GroupView>,
    /// Down periods of the last 14 days, newest first.
    pub incidents: Vec<IncidentRow>,
    /// Unix ms the page was made at.
    pub generated_ms: u64,
    pub show_details: bool,
}

/// The page `slug` (`acme` or `acme.json`) for a caller: 404 unknown, 401/403 not public
/// without read scope.
fn page_for(ctx: &Ctx, slug: &str, caller: &Caller) -> Result<Arc<StatusPage>, ApiError> {
    let page = pages::by_slug(ctx, slug)
        .ok_or_else(|| ApiError::not_found(format!("status page {slug:?}")))?;
    if !page.public {
        access::require(ctx, Scope::Read, "this status page", caller.presented())?;
    }
    Ok(page)
}

/// What the node knows of one monitor, if it still exists: its state as the API's monitor
/// view gives it, its status timeline and its incidents. Blocking (a store read).
fn facts(
    ctx: &Ctx,
    ownership: &crate::domain::ownership::Ownership,
    maintenance: &Maintenance,
    id: &str,
    now: u64,
) -> Result<Option<MonitorFacts>, ApiError> {
    use crate::domain::secret;
    let Some(e) = ctx.live.get(id) else {
        return Ok(None); // deleted since the page named it
    };
    let status = super::monitors::view(ownership, &maintenance.covered, &e).status;
    let transitions = ctx.store.transitions(id)?;
    let m = &e.monitor;
    let url = secret::redact_url(&m.url).into_owned();
    let name = secret::monitor_name(m, &secret::monitor_secrets(m));
    let outages = crate::alert::incidents::incidents(&transitions, &[], |_| None, now)
        .into_iter()
        .map(|i| Outage {
            start_ms: i.start_ms,
            end_ms: i.end_ms,
            duration_ms: i.duration_ms,
            cause: i.cause,
        })
        .collect();
    let failed = e.last.as_ref().filter(|r| !r.ok);
    Ok(Some(MonitorFacts {
        id: id.to_owned(),
        name: (*name != url && *name != m.url).then(|| name.into_owned()),
        url,
        status,
        last_error: failed.and_then(|r| r.error.clone()),
        changes: crate::history::query::timeline(m, &transitions),
        outages,
        maintenance: maintenance.spans.of(id),
    }))
}

/// The maintenance windows as a page sees them: which monitors they cover now, and their
/// time over the page's days.
struct Maintenance<'a> {
    covered: crate::domain::maintenance::Covered,
    spans: crate::domain::maintenance::SpansWithin<'a>,
}

/// What the node knows of every monitor of the page, shaped for it. Blocking (store reads).
pub fn gather(ctx: &Ctx, page: &StatusPage, now: u64) -> Result<PageData, ApiError> {
    let ownership = ctx.ownership();
    let windows = ctx.maintenance_windows();
    let days = u64::from(page_model::DAYS) * crate::domain::uptime::DAY_MS;
    let maintenance = Maintenance {
        covered: windows.at(now),
        spans: windows.within(now.saturating_sub(days), now),
    };
    let mut groups = Vec::with_capacity(page.groups.len());
    for g in &page.groups {
        let mut monitors = Vec::with_capacity(g.monitors.len());
        for id in &g.monitors {
            monitors.extend(facts(ctx, &ownership, &maintenance, id, now)?);
        }
        groups.push(GroupFacts {
            name: g.name.clone(),
            monitors,
        });
    }
    let model = page_model::build(&groups, page.show_details, now);
    Ok(PageData {
        slug: page.slug.clone(),
        title: page.title.clone(),
        description: page.description.clone(),
        overall: model.overall,
        overall_text: model.overall.text(),
        announcement: page.announcement.clone().filter(|a| a.shows_at(now)),
        groups: model.groups,
        incidents: model.incidents,
        generated_ms: now,
        show_details: page.show_details,
    })
}

/// A status page: HTML at `/status/{slug}`, the same data as JSON at `/status/{slug}.json`.
#[utoipa::path(
    get,
    path = "/status/{slug}",
    operation_id = "status_page",
    tag = "status pages",
    params(("slug" = String, Path, description = "The page's slug; with `.json` appended, its data as JSON")),
    responses(
        (status = 200, description = "The page (HTML), or its data (`.json`)", content(
            (PageData = "application/json"),
            (String = "text/html"),
        )),
        (status = 401, description = "The page is not public and no valid token or session was presented", body = ErrorBody),
        (status = 404, description = "No status page with this slug", body = ErrorBody),
    ),
)]
pub async fn show(slug: String, ctx: Ctx, caller: Caller) -> ApiResult {
    let (slug, as_json) = match slug.strip_suffix(".json") {
        Some(s) => (s.to_owned(), true),
        None => (slug, false),
    };
    let page = page_for(&ctx, &slug, &caller)?;
    let c = ctx.clone();
    let data = tokio::task::spawn_blocking(move || gather(&c, &page, now_ms()))
        .await
        .map_err(ApiError::internal)??;
    if as_json {
        return Ok(json(&data).into_response());
    }
    let html = super::page_html::render(&data);
    let reply = with_header(html, "content-type", "text/html; charset=utf-8");
    Ok(with_header(
        reply,
        "content-security-policy",
        super::page_html::CSP.as_str(),
    )
    .into_response())
}
