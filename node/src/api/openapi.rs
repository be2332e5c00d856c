//! The OpenAPI 3.1 document of the HTTP API, served at `GET /api/openapi.json`.
//!
//! It is generated from the handlers' `#[utoipa::path]` attributes and the request and response
//! types themselves, never written by hand; `node/tests/openapi.rs` checks real answers of every
//! route against it, and that every route of [`super::routes`] is in it.

use std::sync::OnceLock;

use utoipa::OpenApi;
use utoipa::openapi::extensions::Extensions;
use warp::reply::{Reply, with_header};

use super::{
    alerts, badge, error, events, history, input, maintenance, monitors, overview, session,
    status_pages, tokens, views,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ringwatch HTTP API",
        description = "A distributed website-uptime monitor. Any node answers for the whole \
            cluster. Bodies are JSON; errors are `{\"error\": \"...\"}` with 400 (bad input, \
            unknown fields), 404 (unknown id or path) or 413 (body over 1 MiB). With auth on, \
            operations that name the `bearer` security scheme need `Authorization: Bearer \
            <token>`: 401 without a valid token, 403 when its scope (read < write < admin) \
            is too small. The dashboard logs in at `/api/session` and then sends a session \
            cookie instead of the header. Every request but `/healthz` must be addressed to \
            the node: a `Host` that is not its own address (or a configured public URL) gets \
            421, an `Origin` that is not its own 403; a change (POST, PUT, PATCH, DELETE) with \
            a body or a content type must be `Content-Type: application/json`, else 415.",
    ),
    paths(
        overview::healthz,
        monitors::create,
        monitors::list,
        monitors::get,
        monitors::patch,
        monitors::delete,
        monitors::check,
        monitors::results,
        history::stats,
        history::series,
        alerts::incidents,
        alerts::create,
        alerts::list,
        alerts::get,
        alerts::delete,
        tokens::create,
        tokens::list,
        tokens::delete,
        maintenance::create,
        maintenance::list,
        maintenance::get,
        maintenance::patch,
        maintenance::delete,
        status_pages::create,
        status_pages::list,
        status_pages::get,
        status_pages::patch,
        status_pages::delete,
        status_pages::show,
        badge::badge,
        session::get,
        session::login,
        session::logout,
        overview::summary,
        overview::cluster,
        events::events,
        overview::metrics,
        openapi_json,
        super::dashboard,
    ),
    components(schemas(
        error::ErrorBody,
        input::CreateBody,
        input::MonitorInput,
        input::MonitorPatch,
        input::StatusSpec,
        views::MonitorView,
        views::Created,
        history::StatsView,
        history::NodeStats,
        history::SeriesView,
        history::PointView,
        history::LatencyView,
        ringwatch_proto::ProbeResult,
        ringwatch_proto::ErrorKind,
        ringwatch_proto::Status,
        crate::live::ShownStatus,
        crate::domain::maintenance::MaintenanceInput,
        maintenance::MaintenanceView,
        maintenance::MaintenancePatch,
        crate::domain::notifier::NotifierInput,
        crate::alert::notifiers::NotifierView,
        crate::alert::incidents::Incident,
        crate::alert::incidents::Alert,
        tokens::TokenInput,
        tokens::TokenView,
        tokens::CreatedToken,
        crate::domain::status_page::StatusPageInput,
        status_pages::StatusPageView,
        status_pages::PageData,
        crate::domain::page_model::Overall,
        crate::domain::page_model::GroupView,
        crate::domain::page_model::MonitorRow,
        crate::domain::page_model::DayBar,
        crate::domain::page_model::IncidentRow,
        ringwatch_proto::Announcement,
        ringwatch_proto::PageGroup,
        ringwatch_proto::Severity,
        session::LoginInput,
        session::SessionView,
        ringwatch_proto::Scope,
        overview::Health,
        overview::Summary,
        overview::ClusterView,
        overview::NodeView,
        overview::ZoneView,
        events::StatusEvent,
        events::MonitorEvent,
        events::DeletedEvent,
    )),
    tags(
        (name = "monitors", description = "Monitor definitions, their checks and results"),
        (name = "notifiers", description = "Alert channels and incidents"),
        (name = "maintenance", description = "Maintenance windows: monitors shown as `maintenance`, never notified, left out of uptime"),
        (name = "tokens", description = "API tokens (admin scope when auth is on)"),
        (name = "status pages", description = "Status pages, their HTML and JSON, and badges"),
        (name = "session", description = "The dashboard's login: a session cookie for a token"),
        (name = "node", description = "Health, counts, cluster view and metrics"),
        (name = "events", description = "Server-sent events"),
        (name = "docs", description = "This document and the dashboard"),
    )
)]
struct ApiDoc;

/// The document, with the event stream's `x-events` (event name to the schema of its data)
/// and the access rule of every operation (who needs a token, and which 401 and 403 answers).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    with_access(&mut doc);
    let events = doc
        .paths
        .paths
        .get_mut("/api/events")
        .and_then(|item| item.get.as_mut());
    if let Some(op) = events {
        let schemas: serde_json::Map<String, serde_json::Value> = events::data_schemas()
            .into_iter()
            .filter_map(|(name, schema)| {
                Some((name.to_owned(), serde_json::to_value(schema).ok()?))
            })
            .collect();
        op.extensions
            .get_or_insert_with(Extensions::default)
            .insert("x-events".to_owned(), schemas.into());
    }
    doc
}

/// Names the `bearer` scheme on every operation that needs a token when auth is on, with its
/// 401 and, where a read token is not enough, its 403: all from the one rule,
/// [`crate::domain::token::required_scope`].
fn with_access(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    use utoipa::openapi::{Content, Ref, ResponseBuilder};
    let refusal = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            )
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [
            ("GET", &mut item.get),
            ("POST", &mut item.post),
            ("PUT", &mut item.put),
            ("PATCH", &mut item.patch),
            ("DELETE", &mut item.delete),
        ];
        for (method, op) in ops {
            let Some(op) = op.as_mut() else { continue };
            let Some(scope) = crate::domain::token::required_scope(method, path) else {
                continue;
            };
            op.security = Some(vec![SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]);
            let responses = &mut op.responses.responses;
            let missing = "Auth is on and no valid token was sent (none, unknown or revoked)";
            responses.insert("401".into(), refusal(missing).into());
            if scope > ringwatch_proto::Scope::Read {
                let small = format!(
                    "The token's scope is too small: this needs {}",
                    scope.as_str()
                );
                responses.insert("403".into(), refusal(&small).into());
            }
        }
    }
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
}

/// This document: the OpenAPI 3.1 description of every route.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "docs",
    responses((status = 200, description = "The OpenAPI document", body = Object)),
)]
pub fn openapi_json() -> impl Reply {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| {
        // Serializing a document of plain maps and strings cannot fail; "{}" would say so.
        document().to_json().unwrap_or_else(|_| "{}".to_owned())
    });
    with_header(text.as_str(), "content-type", "application/json")
}
