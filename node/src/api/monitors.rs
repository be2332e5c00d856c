//! Handlers of `/api/monitors...`.

use std::collections::HashMap;

use bytes::Bytes;
use ringwatch_proto::Status;
use warp::http::StatusCode;
use warp::reply::{Reply, Response, json, with_header, with_status};

use super::error::ApiError;
use super::input::{parse_create, parse_patch};
use super::views::MonitorView;
use crate::catalog;
use crate::context::Ctx;
use crate::live::{LiveEntry, Query};
use crate::probe;

/// Results answered when a request names no limit.
pub const DEFAULT_RESULTS_LIMIT: usize = 1_000;
/// Most results one request may ask for.
pub const MAX_RESULTS_LIMIT: usize = 10_000;

type ApiResult = Result<Response, ApiError>;

fn view<'a>(alive: &'a [String], e: &'a LiveEntry) -> MonitorView<'a> {
    MonitorView::new(e, crate::cluster::assign::owner(&e.monitor.id, alive))
}

fn entry(ctx: &Ctx, id: &str) -> Result<LiveEntry, ApiError> {
    ctx.live
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("monitor {id:?}")))
}

pub async fn create(ctx: Ctx, body: Bytes) -> ApiResult {
    let (inputs, bulk) = parse_create(&body)?;
    let monitors = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            input.into_monitor().map_err(|e| {
                if bulk {
                    ApiError::bad_request(format!("monitor #{i}: {}", e.message))
                } else {
                    e
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let created = catalog::create(&ctx, monitors)?;
    let entries: Vec<LiveEntry> = created.iter().filter_map(|m| ctx.live.get(&m.id)).collect();
    let alive = ctx.alive();
    let views: Vec<_> = entries.iter().map(|e| view(&alive, e)).collect();
    let body = if bulk {
        json(&views)
    } else {
        json(&views.first())
    };
    Ok(with_status(body, StatusCode::CREATED).into_response())
}

fn param<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    key: &str,
    what: &str,
) -> Result<Option<T>, ApiError> {
    q.get(key)
        .map(|v| {
            v.parse()
                .map_err(|_| ApiError::bad_request(format!("{key} must be {what}, got {v:?}")))
        })
        .transpose()
}

pub async fn list(ctx: Ctx, q: HashMap<String, String>) -> ApiResult {
    let status = match q.get("status").map(String::as_str) {
        None | Some("") => None,
        Some("up") => Some(Status::Up),
        Some("down") => Some(Status::Down),
        Some("pending") => Some(Status::Pending),
        Some("paused") => Some(Status::Paused),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "status must be up, down, pending or paused, got {other:?}"
            )));
        }
    };
    let query = Query {
        text: q.get("q").filter(|t| !t.is_empty()).cloned(),
        status,
        offset: param(&q, "offset", "a non-negative integer")?.unwrap_or(0),
        limit: param(&q, "limit", "a non-negative integer")?,
    };
    let (entries, total) = ctx.live.list(&query);
    let alive = ctx.alive();
    let views: Vec<_> = entries.iter().map(|e| view(&alive, e)).collect();
    Ok(with_header(json(&views), "x-total-count", total.to_string()).into_response())
}

pub async fn get(id: String, ctx: Ctx) -> ApiResult {
    let e = entry(&ctx, &id)?;
    Ok(json(&view(&ctx.alive(), &e)).into_response())
}

pub async fn patch(id: String, ctx: Ctx, body: Bytes) -> ApiResult {
    let e = entry(&ctx, &id)?;
    let changed = parse_patch(&body)?.apply((*e.monitor).clone())?;
    catalog::update(&ctx, changed)?;
    let e = entry(&ctx, &id)?;
    Ok(json(&view(&ctx.alive(), &e)).into_response())
}

pub async fn delete(id: String, ctx: Ctx) -> ApiResult {
    if catalog::delete(&ctx, &id)? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("monitor {id:?}")))
    }
}

pub async fn check(id: String, ctx: Ctx) -> ApiResult {
    let e = entry(&ctx, &id)?;
    let result = probe::check(&ctx.clients, &e.monitor, &ctx.name).await;
    ctx.record(result.clone());
    Ok(json(&result).into_response())
}

pub async fn results(id: String, ctx: Ctx, q: HashMap<String, String>) -> ApiResult {
    entry(&ctx, &id)?;
    let since = param(&q, "since", "unix milliseconds")?.unwrap_or(0);
    let limit: usize = param(&q, "limit", "a positive integer")?.unwrap_or(DEFAULT_RESULTS_LIMIT);
    if !(1..=MAX_RESULTS_LIMIT).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be between 1 and {MAX_RESULTS_LIMIT}"
        )));
    }
    let store = ctx.store.clone();
    let rows = tokio::task::spawn_blocking(move || store.results(&id, since, limit))
        .await
        .map_err(ApiError::internal)??;
    Ok(json(&rows).into_response())
}
