//! What history answers: `stats` over a window, a chart's `series`, and the figures of the
//! monitor list (uptime over 24 h and 30 d, p95 latency over 24 h), refreshed in the
//! background so listing 20,000 monitors reads none of it from the store.
//!
//! Uptime comes from the monitor's status timeline (its stored transitions), not from check
//! counts: time down over time watched, paused time left out. A monitor is watched from its
//! creation; until its first status change, and while pending after a resume or a new URL, it
//! counts as up (a pending monitor's first good check makes it up without a transition).
//! Counts and latency come from the rollups, at the finest resolution whose retention
//! covers the window (`domain::rollup::pick_resolution`). Time a maintenance window covered
//! is neither up nor down (`domain::uptime::availability_outside`): it is reported apart.

use std::collections::BTreeMap;

use ringwatch_proto::{Monitor, Status, Transition};

use crate::context::Ctx;
use crate::domain::maintenance::{SpansWithin, Windows};
use crate::domain::rollup::{self, Bucket, Resolution, Stats, pick_resolution, series_step};
use crate::domain::uptime::{self, Availability};
use crate::live::Figures;
use crate::store::StoreResult;

pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// A window's figures for one monitor.
#[derive(Debug, Clone)]
pub struct WindowStats {
    pub from_ms: u64,
    pub to_ms: u64,
    pub resolution: Resolution,
    pub availability: Availability,
    pub all: Stats,
    pub by_node: Vec<(String, Stats)>,
    /// The same by the zone of the probing node (`None`: nodes whose zone is not known).
    pub by_zone: Vec<(Option<String>, Stats)>,
}

/// One point of a series.
#[derive(Debug, Clone)]
pub struct SeriesPoint {
    pub at_ms: u64,
    pub stats: Stats,
    pub availability: Availability,
}

/// The timeline `domain::uptime` reads: watched (as up) from creation, then each change;
/// pending counts as up (see the module doc).
pub fn timeline(monitor: &Monitor, transitions: &[Transition]) -> Vec<(u64, Status)> {
    let mut changes = Vec::with_capacity(transitions.len() + 1);
    changes.push((monitor.created_ms, Status::Up));
    let mut ts: Vec<&Transition> = transitions.iter().collect();
    ts.sort_by_key(|t| t.seq);
    for t in ts {
        let to = match t.to {
            Status::Pending => Status::Up,
            other => other,
        };
        changes.push((t.at_ms.max(monitor.created_ms), to));
    }
    // A monitor paused now, with no recorded pause (paused before pauses were recorded, or
    // by a node that did not own it): paused since its last change.
    if !monitor.active && changes.last().is_some_and(|c| c.1 != Status::Paused) {
        let at = hlc_ms(monitor).max(changes.last().map_or(0, |c| c.0));
        changes.push((at, Status::Paused));
    }
    changes
}

fn hlc_ms(m: &Monitor) -> u64 {
    crate::clock::hlc_millis(m.rev.hlc)
}

/// Figures of monitor `id` over `[to_ms - window_ms, to_ms)`. Blocking (store reads).
pub fn stats(
    ctx: &Ctx,
    monitor: &Monitor,
    window_ms: u64,
    now_ms: u64,
) -> StoreResult<WindowStats> {
    let to_ms = now_ms;
    let from_ms = to_ms.saturating_sub(window_ms);
    let retention = ctx.config.history_retention();
    let resolution = pick_resolution(window_ms, &retention);
    let from = resolution.floor(from_ms);
    let buckets = ctx.store.rollups(&monitor.id, resolution, from, to_ms)?;
    let mut by_node: BTreeMap<String, Bucket> = BTreeMap::new();
    for (node, b) in &buckets {
        by_node
            .entry(node.clone())
            .and_modify(|sum| sum.merge(b))
            .or_insert_with(|| b.clone());
    }
    let mut by_zone: BTreeMap<Option<String>, Bucket> = BTreeMap::new();
    for (node, b) in &by_node {
        by_zone
            .entry(ctx.zone_of(node))
            .and_modify(|sum| sum.merge(b))
            .or_insert_with(|| b.clone());
    }
    let all = rollup::summarize(buckets.iter().map(|(_, b)| b));
    let transitions = ctx.store.transitions(&monitor.id)?;
    let changes = timeline(monitor, &transitions);
    let excluded = ctx
        .maintenance_windows()
        .spans_of(&monitor.id, from_ms, to_ms);
    Ok(WindowStats {
        from_ms,
        to_ms,
        resolution,
        availability: uptime::availability_outside(&changes, from_ms, to_ms, now_ms, &excluded),
        all: Stats::of(&all),
        by_node: by_node
            .into_iter()
            .map(|(n, b)| (n, Stats::of(&b)))
            .collect(),
        by_zone: by_zone
            .into_iter()
            .map(|(z, b)| (z, Stats::of(&b)))
            .collect(),
    })
}

/// The chart of monitor `id` over `[from_ms, to_ms)`: points every step (the requested one,
/// widened to at most 1,000 points and to the resolution read). Blocking.
pub fn series(
    ctx: &Ctx,
    monitor: &Monitor,
    from_ms: u64,
    to_ms: u64,
    step_ms: Option<u64>,
    now_ms: u64,
) -> StoreResult<(u64, Vec<SeriesPoint>)> {
    let retention = ctx.config.history_retention();
    // The resolution must reach back to `from_ms` and be no finer than the step asked for.
    let reach = now_ms
        .saturating_sub(from_ms)
        .max(to_ms.saturating_sub(from_ms));
    let mut resolution = pick_resolution(reach, &retention);
    if let Some(step) = step_ms {
        while resolution != Resolution::Day && step >= next(resolution).width_ms() {
            resolution = next(resolution);
        }
    }
    let step = series_step(from_ms, to_ms, resolution, step_ms);
    let first = from_ms - from_ms % step;
    let buckets = ctx.store.rollups(&monitor.id, resolution, first, to_ms)?;
    let points = rollup::series(buckets.iter().map(|(_, b)| b), first, to_ms, step);
    let transitions = ctx.store.transitions(&monitor.id)?;
    let changes = timeline(monitor, &transitions);
    let excluded = ctx
        .maintenance_windows()
        .spans_of(&monitor.id, first, to_ms.min(now_ms));
    let out = points
        .into_iter()
        .map(|p| SeriesPoint {
            at_ms: p.at_ms,
            stats: Stats::of(&p.bucket),
            availability: uptime::availability_outside(
                &changes,
                p.at_ms,
                p.at_ms + step,
                now_ms,
                &excluded,
            ),
        })
        .collect();
    Ok((step, out))
}

fn next(r: Resolution) -> Resolution {
    match r {
        Resolution::Minute => Resolution::Hour,
        _ => Resolution::Day,
    }
}

/// The list figures of one monitor now. `maintenance` holds the maintenance windows'
/// occurrences over the last 30 days ([`figure_windows`]), whose time is left out. Blocking.
pub fn figures(
    ctx: &Ctx,
    monitor: &Monitor,
    maintenance: &SpansWithin<'_>,
    now_ms: u64,
) -> StoreResult<Figures> {
    let transitions = ctx.store.transitions(&monitor.id)?;
    let changes = timeline(monitor, &transitions);
    let month_from = now_ms.saturating_sub(30 * DAY_MS);
    let excluded = maintenance.of(&monitor.id);
    let over = |from: u64| uptime::availability_outside(&changes, from, now_ms, now_ms, &excluded);
    let (day, month) = (over(now_ms.saturating_sub(DAY_MS)), over(month_from));
    // 24 h at hour resolution: 25 buckets, exact enough for a list column.
    let from = Resolution::Hour.floor(now_ms.saturating_sub(DAY_MS));
    let hours = ctx
        .store
        .rollups(&monitor.id, Resolution::Hour, from, now_ms)?;
    let all = rollup::summarize(hours.iter().map(|(_, b)| b));
    let p95 = Stats::of(&all).latency.map(|l| l.p95_ms);
    Ok(Figures::new(
        now_ms,
        (day.observed_ms, day.down_ms),
        (month.observed_ms, month.down_ms),
        p95,
    ))
}

/// The windows' occurrences over the 30 days the list's figures cover.
pub fn figure_windows(windows: &Windows, now_ms: u64) -> SpansWithin<'_> {
    windows.within(now_ms.saturating_sub(30 * DAY_MS), now_ms)
}

/// Refreshes the list figures of every monitor. Blocking; runs in the background.
pub fn refresh_figures(ctx: &Ctx, now_ms: u64) {
    let windows = ctx.maintenance_windows();
    let maintenance = figure_windows(&windows, now_ms);
    for monitor in ctx.live.monitors() {
        match figures(ctx, &monitor, &maintenance, now_ms) {
            Ok(f) => ctx.live.set_figures(&monitor.id, f),
            Err(e) => {
                ctx.metrics.store_errors.inc();
                tracing::warn!(error = %e, "could not compute list figures");
                return;
            }
        }
    }
}

/// Refreshes the list figures of one monitor. Blocking.
pub fn refresh_figures_of(ctx: &Ctx, id: &str, now_ms: u64) {
    let Some(entry) = ctx.live.get(id) else {
        return;
    };
    let windows = ctx.maintenance_windows();
    match figures(
        ctx,
        &entry.monitor,
        &figure_windows(&windows, now_ms),
        now_ms,
    ) {
        Ok(f) => ctx.live.set_figures(id, f),
        Err(e) => {
            ctx.metrics.store_errors.inc();
            tracing::warn!(error = %e, "could not compute list figures");
        }
    }
}

/// Milliseconds of a window like `24h`, `30d` or `1y` (humantime, `y` = 365 days).
pub fn parse_window(text: &str) -> Result<u64, String> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| e.to_string())?;
    Ok(d.as_millis() as u64)
}
