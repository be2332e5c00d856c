//! Handlers of `/api/maintenance...`: maintenance windows (write scope to change, read to
//! list when auth is on). Every change goes through [`crate::maintenance`].

use bytes::Bytes;
use ringwatch_proto::{Maintenance, MaintenanceSchedule, MaintenanceScope};
use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::{Reply, Response, json, with_status};

use super::error::{ApiError, ErrorBody};
use crate::clock::now_ms;
use crate::context::Ctx;
use crate::domain::maintenance::{MaintenanceInput, Window};
use crate::maintenance::{self, ChangeError};

type ApiResult = Result<Response, ApiError>;

/// A window as the API shows it, with when it is in force as of the answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MaintenanceWindow)]
pub struct MaintenanceView<'a> {
    /// `w-` and 16 hex digits (or the config file's id).
    pub id: &'a str,
    pub title: &'a str,
    /// `"all"`, or the monitor ids.
    #[schema(value_type = serde_json::Value)]
    pub monitors: serde_json::Value,
    /// One-off: unix ms it starts; `null` for a recurring window.
    pub start_ms: Option<u64>,
    /// One-off: unix ms it ends (excluded); `null` for a recurring window.
    pub end_ms: Option<u64>,
    /// Recurring: the 5-field cron expression; `null` for a one-off window.
    pub cron: Option<&'a str>,
    /// Recurring: seconds each occurrence lasts.
    pub duration_secs: Option<u64>,
    /// Recurring: the IANA time zone the cron is read in.
    pub timezone: Option<&'a str>,
    /// `false`: kept, but covers nothing.
    pub active: bool,
    /// Unix ms of its creation (0 for a config file's window).
    pub created_ms: u64,
    /// Whether it covers its monitors now.
    pub active_now: bool,
    /// Unix ms the occurrence in force now started, else when the next one starts; `null`
    /// when none is to come (a one-off window that has passed).
    pub next_start_ms: Option<u64>,
    /// Unix ms that occurrence ends.
    pub next_end_ms: Option<u64>,
}

impl<'a> MaintenanceView<'a> {
    fn new(m: &'a Maintenance, now: u64) -> Self {
        let window = Window::of(m).ok();
        let current = window.as_ref().and_then(|w| w.covering(now));
        let next = current.or_else(|| window.as_ref().and_then(|w| w.next_after(now)));
        let mut view = MaintenanceView {
            id: &m.id,
            title: &m.title,
            monitors: match &m.monitors {
                MaintenanceScope::All => "all".into(),
                MaintenanceScope::Only(ids) => ids.clone().into(),
            },
            start_ms: None,
            end_ms: None,
            cron: None,
            duration_secs: None,
            timezone: None,
            active: m.active,
            created_ms: m.created_ms,
            active_now: m.active && current.is_some(),
            next_start_ms: next.map(|s| s.start_ms),
            next_end_ms: next.map(|s| s.end_ms),
        };
        match &m.schedule {
            MaintenanceSchedule::Once { start_ms, end_ms } => {
                view.start_ms = Some(*start_ms);
                view.end_ms = Some(*end_ms);
            }
            MaintenanceSchedule::Recurring {
                cron,
                duration_secs,
                timezone,
            } => {
                view.cron = Some(cron);
                view.duration_secs = Some(*duration_secs);
                view.timezone = Some(timezone);
            }
        }
        view
    }
}

/// What `PATCH /api/maintenance/{id}` takes: any of the create fields (`MaintenanceInput`);
/// `null` removes one. Only its schema is used: the patch is merged as JSON over the window's
/// fields and the result read as a `MaintenanceInput` (`crate::maintenance::patch`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code, reason = "a schema for the OpenAPI document, never built")]
pub struct MaintenancePatch {
    title: Option<String>,
    #[schema(value_type = Option<serde_json::Value>)]
    monitors: Option<()>,
    start_ms: Option<u64>,
    end_ms: Option<u64>,
    cron: Option<String>,
    duration_secs: Option<u64>,
    timezone: Option<String>,
    active: Option<bool>,
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Invalid(why) => ApiError::bad_request(why),
            ChangeError::NotFound(what) => {
                ApiError::not_found(format!("maintenance window {what:?}"))
            }
            ChangeError::Store(e) => ApiError::internal(e),
        }
    }
}

fn answer(m: &Maintenance, status: StatusCode) -> Response {
    with_status(json(&MaintenanceView::new(m, now_ms())), status).into_response()
}

/// Makes a maintenance window, cluster-wide.
#[utoipa::path(
    post,
    path = "/api/maintenance",
    operation_id = "create_maintenance",
    tag = "maintenance",
    request_body = MaintenanceInput,
    responses(
        (status = 201, description = "The created window", body = MaintenanceView),
        (status = 400, description = "Malformed JSON, unknown fields, a bad cron, time zone, start/end or duration, or an unknown monitor id", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    ),
)]
pub async fn create(ctx: Ctx, body: Bytes) -> ApiResult {
    let input: MaintenanceInput = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("malformed maintenance window: {e}")))?;
    let made = maintenance::create(&ctx, input)?;
    Ok(answer(&made, StatusCode::CREATED))
}

/// Every maintenance window, oldest first.
#[utoipa::path(
    get,
    path = "/api/maintenance",
    operation_id = "list_maintenance",
    tag = "maintenance",
    responses((status = 200, description = "The windows", body = [MaintenanceView])),
)]
pub async fn list(ctx: Ctx) -> ApiResult {
    let now = now_ms();
    let all = maintenance::live(&ctx);
    let views: Vec<_> = all.iter().map(|m| MaintenanceView::new(m, now)).collect();
    Ok(json(&views).into_response())
}

/// One maintenance window.
#[utoipa::path(
    get,
    path = "/api/maintenance/{id}",
    operation_id = "get_maintenance",
    tag = "maintenance",
    params(("id" = String, Path, description = "Window id")),
    responses(
        (status = 200, description = "The window", body = MaintenanceView),
        (status = 404, description = "No window with this id", body = ErrorBody),
    ),
)]
pub async fn get(id: String, ctx: Ctx) -> ApiResult {
    let m = ctx
        .maintenance
        .get_live(&id)
        .ok_or_else(|| ApiError::from(ChangeError::NotFound(id)))?;
    Ok(answer(&m, StatusCode::OK))
}

/// Changes the given fields of a window; `null` removes one (send `start_ms` and `end_ms` as
/// `null` with a `cron` and `duration_secs` to make a one-off window recurring).
#[utoipa::path(
    patch,
    path = "/api/maintenance/{id}",
    operation_id = "patch_maintenance",
    tag = "maintenance",
    params(("id" = String, Path, description = "Window id")),
    request_body = MaintenancePatch,
    responses(
        (status = 200, description = "The changed window", body = MaintenanceView),
        (status = 400, description = "Malformed JSON, unknown fields or a window that does not validate", body = ErrorBody),
        (status = 404, description = "No window with this id", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    ),
)]
pub async fn patch(id: String, ctx: Ctx, body: Bytes) -> ApiResult {
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("malformed patch (a JSON object): {e}")))?;
    let changed = maintenance::patch(&ctx, &id, fields)?;
    Ok(answer(&changed, StatusCode::OK))
}

/// Deletes a window on every node.
#[utoipa::path(
    delete,
    path = "/api/maintenance/{id}",
    operation_id = "delete_maintenance",
    tag = "maintenance",
    params(("id" = String, Path, description = "Window id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No window with this id", body = ErrorBody),
    ),
)]
pub async fn delete(id: String, ctx: Ctx) -> ApiResult {
    if maintenance::delete(&ctx, &id).map_err(ApiError::internal)? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ChangeError::NotFound(id).into())
    }
}
