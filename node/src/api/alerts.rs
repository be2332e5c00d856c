//! Handlers of `/api/notifiers...` and `/api/monitors/{id}/incidents`.

use bytes::Bytes;
use warp::http::StatusCode;
use warp::reply::{Reply, Response, json, with_status};

use super::error::{ApiError, ErrorBody};
use crate::alert::incidents::{Incident, incidents as incidents_of};
use crate::alert::notifiers::{self, NotifierInput, NotifierView};
use crate::clock::now_ms;
use crate::context::Ctx;

type ApiResult = Result<Response, ApiError>;

/// Creates an alert channel, cluster-wide.
#[utoipa::path(
    post,
    path = "/api/notifiers",
    operation_id = "create_notifier",
    tag = "notifiers",
    request_body = NotifierInput,
    responses(
        (status = 201, description = "The created notifier", body = NotifierView),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields or values out of range", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    ),
)]
pub async fn create(ctx: Ctx, body: Bytes) -> ApiResult {
    let input: NotifierInput = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("malformed notifier: {e}")))?;
    if input.id.is_some() {
        return Err(ApiError::bad_request(
            "id is made by the server (fixed ids belong in the config file)",
        ));
    }
    let n = input.into_notifier().map_err(ApiError::bad_request)?;
    let n = notifiers::create(&ctx, n)?;
    Ok(with_status(json(&NotifierView::new(&n)), StatusCode::CREATED).into_response())
}

/// Every notifier, oldest first.
#[utoipa::path(
    get,
    path = "/api/notifiers",
    operation_id = "list_notifiers",
    tag = "notifiers",
    responses((status = 200, description = "The notifiers", body = [NotifierView])),
)]
pub async fn list(ctx: Ctx) -> ApiResult {
    let views: Vec<_> = notifiers::live(&ctx)
        .iter()
        .map(NotifierView::new)
        .collect();
    Ok(json(&views).into_response())
}

/// One notifier.
#[utoipa::path(
    get,
    path = "/api/notifiers/{id}",
    operation_id = "get_notifier",
    tag = "notifiers",
    params(("id" = String, Path, description = "Notifier id")),
    responses(
        (status = 200, description = "The notifier", body = NotifierView),
        (status = 404, description = "No notifier with this id", body = ErrorBody),
    ),
)]
pub async fn get(id: String, ctx: Ctx) -> ApiResult {
    let n =
        notifiers::get(&ctx, &id).ok_or_else(|| ApiError::not_found(format!("notifier {id:?}")))?;
    Ok(json(&NotifierView::new(&n)).into_response())
}

/// Deletes a notifier everywhere.
#[utoipa::path(
    delete,
    path = "/api/notifiers/{id}",
    operation_id = "delete_notifier",
    tag = "notifiers",
    params(("id" = String, Path, description = "Notifier id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No notifier with this id", body = ErrorBody),
    ),
)]
pub async fn delete(id: String, ctx: Ctx) -> ApiResult {
    if notifiers::delete(&ctx, &id)? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("notifier {id:?}")))
    }
}

/// The down periods of a monitor, newest first.
#[utoipa::path(
    get,
    path = "/api/monitors/{id}/incidents",
    operation_id = "monitor_incidents",
    tag = "notifiers",
    params(("id" = String, Path, description = "Monitor id")),
    responses(
        (status = 200, description = "The incidents, newest first", body = [Incident]),
        (status = 404, description = "No monitor with this id", body = ErrorBody),
    ),
)]
pub async fn incidents(id: String, ctx: Ctx) -> ApiResult {
    if !ctx.live.contains(&id) {
        return Err(ApiError::not_found(format!("monitor {id:?}")));
    }
    let store = ctx.store.clone();
    let owned = id.clone();
    let (transitions, deliveries) = tokio::task::spawn_blocking(move || {
        Ok::<_, crate::store::StoreError>((
            store.transitions(&owned)?,
            store.deliveries_of(&owned)?,
        ))
    })
    .await
    .map_err(ApiError::internal)??;
    let pending = |key: &_| ctx.attempts.get(key);
    Ok(json(&incidents_of(&transitions, &deliveries, pending, now_ms())).into_response())
}
