//! Handlers of `/api/monitors/{id}/stats` and `/api/monitors/{id}/series`: a monitor's
//! history (see [`crate::history`]).

use std::collections::HashMap;

use serde::Serialize;
use warp::reply::{Reply, Response, json};

use super::error::{ApiError, ErrorBody};
use super::monitors::{entry, param};
use super::views::round6;
use crate::clock::now_ms;
use crate::context::Ctx;
use crate::domain::rollup::{Latency, Stats};
use crate::history::query::{self, DAY_MS};

type ApiResult = Result<Response, ApiError>;

/// Default window of `stats`.
pub const DEFAULT_WINDOW: &str = "24h";

/// Latency of the successful checks, in ms. Percentiles are within 2 % (or 1 ms) of the
/// exact ones.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LatencyView {
    pub min: u64,
    pub avg: f64,
    pub p50: u64,
    pub p95: u64,
    pub p99: u64,
    pub max: u64,
}

impl LatencyView {
    fn new(l: &Latency) -> Self {
        LatencyView {
            min: l.min_ms,
            avg: (l.avg_ms * 10.0).round() / 10.0,
            p50: l.p50_ms,
            p95: l.p95_ms,
            p99: l.p99_ms,
            max: l.max_ms,
        }
    }
}

/// What one probing node's checks of the monitor add up to over the window.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NodeStats {
    pub node: String,
    pub checks: u32,
    pub ok: u32,
    /// `ok / checks`; `null` without checks.
    pub success_ratio: Option<f64>,
    /// `null` without a successful check.
    pub latency_ms: Option<LatencyView>,
}

impl NodeStats {
    fn new(node: String, s: &Stats) -> Self {
        NodeStats {
            node,
            checks: s.checks,
            ok: s.ok,
            success_ratio: s.success_ratio.map(round6),
            latency_ms: s.latency.as_ref().map(LatencyView::new),
        }
    }
}

/// A monitor's figures over one window ending now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatsView {
    pub monitor_id: String,
    pub window_secs: u64,
    pub from_ms: u64,
    pub to_ms: u64,
    /// The rollups read: `minute`, `hour` or `day` (the finest kept for the whole window).
    pub resolution: &'static str,
    /// Share of the watched time the monitor was not down (0..1), from its status changes,
    /// paused and maintenance time left out; `null` when it was not watched in the window.
    pub uptime: Option<f64>,
    /// Time down in the window, in ms.
    pub down_ms: u64,
    /// Time watched (not paused, not in maintenance, after creation) in the window, in ms.
    pub watched_ms: u64,
    /// Time a maintenance window covered in the window (neither up nor down), in ms.
    pub maintenance_ms: u64,
    /// Down periods that overlap the window.
    pub incidents: u32,
    /// Checks in the window, by every node.
    pub checks: u32,
    pub ok: u32,
    /// `ok / checks`: the plain share of good checks; `null` without checks.
    pub success_ratio: Option<f64>,
    pub latency_ms: Option<LatencyView>,
    /// The same counts per probing node, by name.
    pub by_node: Vec<NodeStats>,
    /// The same counts per zone of the probing nodes (`zone` is `null` for nodes whose zone
    /// this node has not heard of).
    pub by_zone: Vec<ZoneStats>,
}

/// One zone's share of a window's checks.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ZoneStats {
    pub zone: Option<String>,
    pub checks: u32,
    pub ok: u32,
    /// `ok / checks`; `null` without checks.
    pub success_ratio: Option<f64>,
    /// `null` without a successful check.
    pub latency_ms: Option<LatencyView>,
}

impl ZoneStats {
    fn new(zone: Option<String>, s: &Stats) -> Self {
        ZoneStats {
            zone,
            checks: s.checks,
            ok: s.ok,
            success_ratio: s.success_ratio.map(round6),
            latency_ms: s.latency.as_ref().map(LatencyView::new),
        }
    }
}

/// One step of a series.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PointView {
    /// Unix ms where the step starts.
    pub at_ms: u64,
    pub checks: u32,
    pub ok: u32,
    /// Time down in the step, in ms.
    pub down_ms: u64,
    /// Share of the step's watched time not down; `null` when not watched.
    pub uptime: Option<f64>,
    pub latency_ms: Option<LatencyView>,
}

/// A monitor's chart data.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeriesView {
    pub monitor_id: String,
    pub from_ms: u64,
    pub to_ms: u64,
    pub step_secs: u64,
    /// Every step from the one holding `from_ms` to `to_ms`, empty ones included.
    pub points: Vec<PointView>,
}

fn duration(q: &HashMap<String, String>, key: &str) -> Result<Option<u64>, ApiError> {
    q.get(key)
        .map(|v| {
            query::parse_window(v).map_err(|e| {
                ApiError::bad_request(format!(
                    "{key} must be a duration like 1h, 24h, 30d or 1y, got {v:?}: {e}"
                ))
            })
        })
        .transpose()
}

/// Uptime, checks and latency of a monitor over a window ending now.
#[utoipa::path(
    get,
    path = "/api/monitors/{id}/stats",
    operation_id = "monitor_stats",
    tag = "monitors",
    params(
        ("id" = String, Path, description = "Monitor id"),
        ("window" = Option<String>, Query, description = "How far back: a duration like 1h, 24h, 7d, 30d, 1y (default 24h; at least 1m, at most the day rollups' retention)"),
    ),
    responses(
        (status = 200, description = "The figures", body = StatsView),
        (status = 400, description = "A malformed or out-of-range window", body = ErrorBody),
        (status = 404, description = "No monitor with this id", body = ErrorBody),
    ),
)]
pub async fn stats(id: String, ctx: Ctx, q: HashMap<String, String>) -> ApiResult {
    let m = entry(&ctx, &id)?.monitor;
    let window = match duration(&q, "window")? {
        Some(w) => w,
        None => query::parse_window(DEFAULT_WINDOW).map_err(ApiError::internal)?,
    };
    let longest = ctx.config.retention_days.as_millis() as u64;
    if !(60_000..=longest).contains(&window) {
        return Err(ApiError::bad_request(format!(
            "window must be between 1m and {} (the day rollups' retention)",
            humantime::format_duration(ctx.config.retention_days)
        )));
    }
    let c = ctx.clone();
    let s = tokio::task::spawn_blocking(move || query::stats(&c, &m, window, now_ms()))
        .await
        .map_err(ApiError::internal)??;
    let a = s.availability;
    Ok(json(&StatsView {
        monitor_id: id,
        window_secs: window / 1000,
        from_ms: s.from_ms,
        to_ms: s.to_ms,
        resolution: s.resolution.as_str(),
        uptime: a.uptime.map(round6),
        down_ms: a.down_ms,
        watched_ms: a.observed_ms,
        maintenance_ms: a.maintenance_ms,
        incidents: a.incidents,
        checks: s.all.checks,
        ok: s.all.ok,
        success_ratio: s.all.success_ratio.map(round6),
        latency_ms: s.all.latency.as_ref().map(LatencyView::new),
        by_node: s
            .by_node
            .into_iter()
            .map(|(n, st)| NodeStats::new(n, &st))
            .collect(),
        by_zone: s
            .by_zone
            .into_iter()
            .map(|(z, st)| ZoneStats::new(z, &st))
            .collect(),
    })
    .into_response())
}

/// A monitor's history as points for a chart: checks, uptime and latency per step.
#[utoipa::path(
    get,
    path = "/api/monitors/{id}/series",
    operation_id = "monitor_series",
    tag = "monitors",
    params(
        ("id" = String, Path, description = "Monitor id"),
        ("from" = Option<u64>, Query, description = "Unix ms of the start (default: 24 hours before `to`)"),
        ("to" = Option<u64>, Query, description = "Unix ms of the end (default: now)"),
        ("step" = Option<String>, Query, description = "Step between points, like 60s, 1h or 1d (default: chosen from the window); widened to at most 1,000 points and to the rollups read"),
    ),
    responses(
        (status = 200, description = "The points", body = SeriesView),
        (status = 400, description = "A malformed from, to or step, or from not before to", body = ErrorBody),
        (status = 404, description = "No monitor with this id", body = ErrorBody),
    ),
)]
pub async fn series(id: String, ctx: Ctx, q: HashMap<String, String>) -> ApiResult {
    let m = entry(&ctx, &id)?.monitor;
    let ms = |key: &str| param::<u64>(&q, key, "unix milliseconds");
    let now = now_ms();
    let to = ms("to")?.unwrap_or(now);
    let from = ms("from")?.unwrap_or(to.saturating_sub(DAY_MS));
    if from >= to {
        return Err(ApiError::bad_request("from must be before to"));
    }
    let step = duration(&q, "step")?;
    if step == Some(0) {
        return Err(ApiError::bad_request("step must be at least 1s"));
    }
    let c = ctx.clone();
    let (step, points) =
        tokio::task::spawn_blocking(move || query::series(&c, &m, from, to, step, now))
            .await
            .map_err(ApiError::internal)??;
    let points = points
        .into_iter()
        .map(|p| PointView {
            at_ms: p.at_ms,
            checks: p.stats.checks,
            ok: p.stats.ok,
            down_ms: p.availability.down_ms,
            uptime: p.availability.uptime.map(round6),
            latency_ms: p.stats.latency.as_ref().map(LatencyView::new),
        })
        .collect();
    Ok(json(&SeriesView {
        monitor_id: id,
        from_ms: from,
        to_ms: to,
        step_secs: step / 1000,
        points,
    })
    .into_response())
}
