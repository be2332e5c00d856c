//! Handlers of `/api/notifiers...` and `/api/monitors/{id}/incidents`.

use bytes::Bytes;
use warp::http::StatusCode;
use warp::reply::{Reply, Response, json, with_status};

use super::error::ApiError;
use crate::alert::incidents::incidents as incidents_of;
use crate::alert::notifiers::{self, NotifierInput, NotifierView};
use crate::clock::now_ms;
use crate::context::Ctx;

type ApiResult = Result<Response, ApiError>;

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

pub async fn list(ctx: Ctx) -> ApiResult {
    let views: Vec<_> = notifiers::live(&ctx)
        .iter()
        .map(NotifierView::new)
        .collect();
    Ok(json(&views).into_response())
}

pub async fn get(id: String, ctx: Ctx) -> ApiResult {
    let n =
        notifiers::get(&ctx, &id).ok_or_else(|| ApiError::not_found(format!("notifier {id:?}")))?;
    Ok(json(&NotifierView::new(&n)).into_response())
}

pub async fn delete(id: String, ctx: Ctx) -> ApiResult {
    if notifiers::delete(&ctx, &id)? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("notifier {id:?}")))
    }
}

/// The down periods of a monitor, newest first.
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
    Ok(json(&incidents_of(&transitions, &deliveries, now_ms())).into_response())
}
