//! Handlers of `/api/monitors...`.

use std::collections::HashMap;

use bytes::Bytes;
use ringwatch_proto::ProbeResult;
use warp::http::StatusCode;
use warp::reply::{Reply, Response, json, with_header, with_status};

use super::error::{ApiError, ErrorBody};
use super::input::{CreateBody, MonitorPatch};
use super::input::{parse_create, parse_patch};
use super::views::{Created, MonitorView};
use crate::catalog;
use crate::context::Ctx;
use crate::domain::maintenance::Covered;
use crate::domain::ownership::Ownership;
use crate::live::{LiveEntry, Query, ShownStatus};
use crate::probe;

/// Results answered when a request names no limit.
pub const DEFAULT_RESULTS_LIMIT: usize = 1_000;
/// Most results one request may ask for.
pub const MAX_RESULTS_LIMIT: usize = 10_000;

type ApiResult = Result<Response, ApiError>;

/// The view of `e`, given who owns what and which monitors are in maintenance now.
pub(super) fn view<'a>(
    ownership: &'a Ownership,
    covered: &Covered,
    e: &'a LiveEntry,
) -> MonitorView<'a> {
    MonitorView::new(e, ownership.owner(&e.monitor.id), e.shown(covered), || {
        crate::live::ZoneSight::of(ownership)
    })
}

/// The monitors in maintenance now.
pub(super) fn covered(ctx: &Ctx) -> Covered {
    ctx.maintenance_windows().at(crate::clock::now_ms())
}

pub(super) fn entry(ctx: &Ctx, id: &str) -> Result<LiveEntry, ApiError> {
    ctx.live
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("monitor {id:?}")))
}

/// Creates one monitor, or all of an array of them (bulk: all or nothing).
#[utoipa::path(
    post,
    path = "/api/monitors",
    operation_id = "create_monitors",
    tag = "monitors",
    request_body = CreateBody,
    responses(
        (status = 201, description = "The created monitor, or an array for an array body", body = Created),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields, values out of range, or a monitor over 128 KiB encoded", body = ErrorBody),
        (status = 409, description = "The cluster holds max_monitors monitors already (or would, with these)", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    ),
)]
pub async fn create(ctx: Ctx, body: Bytes) -> ApiResult {
    let (inputs, bulk) = parse_create(&body)?;
    let monitors = inputs
        .into_iter()
        .enumerate()
        .map(|(i, input)| {
            input.into_monitor().map_err(|e| {
                ApiError::bad_request(if bulk {
                    format!("monitor #{i}: {e}")
                } else {
                    e.to_string()
                })
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (i, m) in monitors.iter().enumerate() {
        allowed_target(&ctx, m).map_err(|e| match bulk {
            true => ApiError::bad_request(format!("monitor #{i}: {e}")),
            false => ApiError::bad_request(e),
        })?;
    }
    known_notifiers(
        &ctx,
        monitors.iter().flat_map(|m| m.notifiers.iter().flatten()),
    )?;
    room_for(&ctx, monitors.len())?;
    let created = catalog::create(&ctx, monitors)?;
    let entries: Vec<LiveEntry> = created.iter().filter_map(|m| ctx.live.get(&m.id)).collect();
    let ownership = ctx.ownership();
    let covered = covered(&ctx);
    let views: Vec<_> = entries
        .iter()
        .map(|e| view(&ownership, &covered, e))
        .collect();
    let body = if bulk {
        Created::Bulk(views)
    } else {
        let one = views.into_iter().next();
        let one = one.ok_or_else(|| ApiError::internal("the new monitor was deleted meanwhile"))?;
        Created::One(Box::new(one))
    };
    Ok(with_status(json(&body), StatusCode::CREATED).into_response())
}

/// Refuses a create of `n` monitors that would take the cluster past `max_monitors`.
fn room_for(ctx: &Ctx, n: usize) -> Result<(), ApiError> {
    let (held, max) = (ctx.live.len(), ctx.config.max_monitors);
    if held.saturating_add(n) <= max {
        return Ok(());
    }
    let asked = match n {
        1 => "one more".to_owned(),
        n => format!("{n} more"),
    };
    Err(ApiError::new(
        StatusCode::CONFLICT,
        format!(
            "the cluster holds {held} monitors and may hold at most {max} (max_monitors); \
             {asked} would go past it: delete some, or raise max_monitors on every node"
        ),
    ))
}

/// Refuses a URL whose literal address the probe guard would refuse (with
/// `block_private_targets` on: loopback, private and similar ranges). A name is checked at
/// each probe instead, on what it resolves to then.
fn allowed_target(ctx: &Ctx, m: &ringwatch_proto::Monitor) -> Result<(), String> {
    let Ok(url) = reqwest::Url::parse(&m.url) else {
        return Ok(());
    };
    match ctx.clients.guard().url_refusal(&url, false) {
        Some(why) => Err(format!(
            "url {:?} is refused: {}",
            m.url,
            why.trim_start_matches("blocked: ")
        )),
        None => Ok(()),
    }
}

/// Refuses notifier ids the cluster does not have (a typo would otherwise mean alerts that
/// silently go nowhere), naming every unknown one.
fn known_notifiers<'a>(ctx: &Ctx, ids: impl Iterator<Item = &'a String>) -> Result<(), ApiError> {
    let mut unknown: Vec<&str> = ids
        .map(String::as_str)
        .filter(|id| ctx.notifiers.get_live(id).is_none())
        .collect();
    unknown.sort_unstable();
    unknown.dedup();
    match unknown.as_slice() {
        [] => Ok(()),
        [one] => Err(ApiError::bad_request(format!(
            "no notifier has the id {one:?} (GET /api/notifiers lists them)"
        ))),
        many => Err(ApiError::bad_request(format!(
            "no notifiers have the ids {} (GET /api/notifiers lists them)",
            many.iter()
                .map(|id| format!("{id:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

pub(super) fn param<T: std::str::FromStr>(
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

/// Lists monitors with their current status, oldest first, filtered and paged.
#[utoipa::path(
    get,
    path = "/api/monitors",
    operation_id = "list_monitors",
    tag = "monitors",
    params(
        ("q" = Option<String>, Query, description = "Only monitors whose name, URL or id contains this text (case-insensitive)"),
        ("status" = Option<ShownStatus>, Query, description = "Only monitors with this status"),
        ("offset" = Option<usize>, Query, description = "Matching monitors to skip (default 0)"),
        ("limit" = Option<usize>, Query, description = "Most monitors to answer (default: all)"),
    ),
    responses(
        (status = 200, description = "One page of the matching monitors", body = [MonitorView], headers(("x-total-count" = usize, description = "How many monitors match, over all pages"))),
        (status = 400, description = "A malformed query parameter", body = ErrorBody),
    ),
)]
pub async fn list(ctx: Ctx, q: HashMap<String, String>) -> ApiResult {
    let status = match q.get("status").map(String::as_str) {
        None | Some("") => None,
        Some(text) => Some(ShownStatus::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "status must be up, down, pending, paused or maintenance, got {text:?}"
            ))
        })?),
    };
    let query = Query {
        text: q.get("q").filter(|t| !t.is_empty()).cloned(),
        status,
        offset: param(&q, "offset", "a non-negative integer")?.unwrap_or(0),
        limit: param(&q, "limit", "a non-negative integer")?,
    };
    let covered = covered(&ctx);
    let (entries, total) = ctx.live.list(&query, &covered);
    let body = json_array_stream(entries, ctx.ownership(), covered);
    let reply = with_header(body, "content-type", "application/json");
    Ok(with_header(reply, "x-total-count", total.to_string()).into_response())
}

/// Views serialized per chunk of the list's body.
const LIST_CHUNK: usize = 256;

/// The views of `entries` as one JSON array, serialized a chunk at a time as the client
/// reads: a list of 20,000 monitors (11 MB) never sits whole in memory, and no request
/// touches more fresh memory than a chunk's (growing one buffer to the whole list made the
/// first request after a quiet spell 10x slower, spent zeroing pages).
fn json_array_stream(
    entries: Vec<LiveEntry>,
    ownership: Ownership,
    covered: Covered,
) -> impl Reply {
    let chunks = entries.len().div_ceil(LIST_CHUNK).max(1);
    let chunk = move |i: usize| -> Result<Bytes, serde_json::Error> {
        let page = entries.chunks(LIST_CHUNK).nth(i).unwrap_or_default();
        let mut out = Vec::with_capacity(page.len() * 600 + 2);
        out.push(if i == 0 { b'[' } else { b',' });
        for (n, e) in page.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &view(&ownership, &covered, e))?;
        }
        if i + 1 == chunks {
            out.push(b']');
        }
        Ok(Bytes::from(out))
    };
    warp::reply::stream(futures::stream::iter((0..chunks).map(chunk)))
}

/// One monitor with its current status.
#[utoipa::path(
    get,
    path = "/api/monitors/{id}",
    operation_id = "get_monitor",
    tag = "monitors",
    params(("id" = String, Path, description = "Monitor id")),
    responses(
        (status = 200, description = "The monitor", body = MonitorView),
        (status = 404, description = "No monitor with this id", body = ErrorBody),
    ),
)]
pub async fn get(id: String, ctx: Ctx) -> ApiResult {
    let e = entry(&ctx, &id)?;
    Ok(json(&view(&ctx.ownership(), &covered(&ctx), &e)).into_response())
}

/// Changes the given fields of a monitor; `null` clears a nullable one.
#[utoipa::path(
    patch,
    path = "/api/monitors/{id}",
    operation_id = "patch_monitor",
    tag = "monitors",
    params(("id" = String, Path, description = "Monitor id")),
    request_body = MonitorPatch,
    responses(
        (status = 200, description = "The changed monitor", body = MonitorView),
        (status = 400, description = "Malformed JSON, wrong types, unknown fields or values out of range", body = ErrorBody),
        (status = 404, description = "No monitor with this id", body = ErrorBody),
        (status = 413, description = "Body over 1 MiB", body = ErrorBody),
    ),
)]
pub async fn patch(id: String, ctx: Ctx, body: Bytes) -> ApiResult {
    let e = entry(&ctx, &id)?;
    let changed = parse_patch(&body)?.apply((*e.monitor).clone())?;
    if changed.url != e.monitor.url {
        allowed_target(&ctx, &changed).map_err(ApiError::bad_request)?;
    }
    // Only ids the patch adds: a notifier deleted since must not block pausing, say.
    let before = e.monitor.notifiers.as_deref().unwrap_or_default();
    let added = changed.notifiers.iter().flatten();
    known_notifiers(&ctx, added.filter(|id| !before.contains(id)))?;
    catalog::update(&ctx, changed)?;
    let e = entry(&ctx, &id)?;
    Ok(json(&view(&ctx.ownership(), &covered(&ctx), &e)).into_response())
}

/// Deletes a monitor everywhere; probing stops.
#[utoipa::path(
    delete,
    path = "/api/monitors/{id}",
    operation_id = "delete_monitor",
    tag = "monitors",
    params(("id" = String, Path, description = "Monitor id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No monitor with this id", body = ErrorBody),
    ),
)]
pub async fn delete(id: String, ctx: Ctx) -> ApiResult {
    if catalog::delete(&ctx, &id)? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!("monitor {id:?}")))
    }
}

/// Longest `POST /check` waits for its result to be stored before answering anyway.
const CHECK_STORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Probes now and answers once the result is stored, so `/results` read after this answer
/// holds it (on this node; peers get it like any other result).
#[utoipa::path(
    post,
    path = "/api/monitors/{id}/check",
    operation_id = "check_monitor",
    tag = "monitors",
    params(("id" = String, Path, description = "Monitor id")),
    responses(
        (status = 200, description = "The result of the probe just made", body = ProbeResult),
        (status = 404, description = "No monitor with this id", body = ErrorBody),
    ),
)]
pub async fn check(id: String, ctx: Ctx) -> ApiResult {
    let e = entry(&ctx, &id)?;
    let result = probe::check(&ctx.clients, &e.monitor, &ctx.name).await;
    ctx.record(result.clone());
    ctx.flush_results(CHECK_STORE_TIMEOUT).await;
    Ok(json(&result).into_response())
}

/// Results of a monitor from every node, oldest first.
#[utoipa::path(
    get,
    path = "/api/monitors/{id}/results",
    operation_id = "monitor_results",
    tag = "monitors",
    params(
        ("id" = String, Path, description = "Monitor id"),
        ("since" = Option<u64>, Query, description = "Only results of probes started at or after this unix ms (default 0)"),
        ("limit" = Option<usize>, Query, minimum = 1, maximum = 10000, description = "Most results to answer, 1-10000 (default 1000)"),
        ("last" = Option<usize>, Query, minimum = 1, maximum = 10000, description = "Instead of since and limit: the newest N results (1-10000), still oldest first; for a heartbeat strip"),
    ),
    responses(
        (status = 200, description = "The results, oldest first", body = [ProbeResult]),
        (status = 400, description = "A malformed since, limit or last, or last together with since or limit", body = ErrorBody),
        (status = 404, description = "No monitor with this id", body = ErrorBody),
    ),
)]
pub async fn results(id: String, ctx: Ctx, q: HashMap<String, String>) -> ApiResult {
    entry(&ctx, &id)?;
    let since: Option<u64> = param(&q, "since", "unix milliseconds")?;
    let limit: Option<usize> = param(&q, "limit", "a positive integer")?;
    let last: Option<usize> = param(&q, "last", "a positive integer")?;
    if last.is_some() && (since.is_some() || limit.is_some()) {
        return Err(ApiError::bad_request(
            "last cannot be combined with since or limit",
        ));
    }
    let limit = last.or(limit).unwrap_or(DEFAULT_RESULTS_LIMIT);
    if !(1..=MAX_RESULTS_LIMIT).contains(&limit) {
        let name = if last.is_some() { "last" } else { "limit" };
        return Err(ApiError::bad_request(format!(
            "{name} must be between 1 and {MAX_RESULTS_LIMIT}"
        )));
    }
    let store = ctx.store.clone();
    let rows = tokio::task::spawn_blocking(move || match last {
        Some(n) => store.latest_results(&id, n),
        None => store.results(&id, since.unwrap_or(0), limit),
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(json(&rows).into_response())
}
