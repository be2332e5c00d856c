//! The rollups of this node's own probes, written by the recorder (the store's one writer).
//!
//! Between flushes only the new checks are held, per monitor and minute (a bucket each,
//! dropped at the flush): memory does not grow with the monitors a node holds. A flush
//! merges them into the stored minute buckets; hour and day buckets are not added to but
//! recomputed from the stored minute (and hour) buckets of their span, so doing it twice
//! changes nothing. Every bucket that changed goes to the peers in full.
//!
//! A kill -9 loses the checks held since the last flush (at most [`FLUSH_EVERY`]) from the
//! rollups; their raw results are stored as usual.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ringwatch_proto::{PeerMsg, ProbeResult};

use super::to_frame;
use crate::context::Ctx;
use crate::domain::rollup::{Bucket, Resolution, summarize};
use crate::store::{Rollup, StoreResult};

/// How often new checks are merged into the stored minute buckets and shipped.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// How often hour and day buckets are recomputed for the monitors checked since.
pub const DERIVE_EVERY: Duration = Duration::from_secs(60);
/// Rollups per peer frame.
pub const ROLLUPS_PER_FRAME: usize = 2_000;

#[derive(Debug, Default)]
pub struct Writer {
    /// New checks since the last flush, per (monitor, minute).
    fresh: HashMap<(String, u64), Bucket>,
    /// Monitors whose hour and day buckets are behind their minutes, with the newest minute.
    behind: HashMap<String, u64>,
    last_flush_ms: u64,
    last_derive_ms: u64,
}

impl Writer {
    /// Counts one of this node's checks.
    pub fn add(&mut self, r: &ProbeResult) {
        let minute = Resolution::Minute.floor(r.at_ms);
        self.fresh
            .entry((r.monitor_id.clone(), minute))
            .or_insert_with(|| Bucket::new(minute))
            .add(r);
    }

    /// Flushes when its time has come.
    pub fn tick(&mut self, ctx: &Ctx, now_ms: u64) {
        if now_ms >= self.last_flush_ms + FLUSH_EVERY.as_millis() as u64 {
            self.last_flush_ms = now_ms;
            self.flush(ctx);
        }
        if now_ms >= self.last_derive_ms + DERIVE_EVERY.as_millis() as u64 {
            self.last_derive_ms = now_ms;
            self.derive(ctx);
        }
    }

    /// Merges the new checks into the stored minute buckets and ships the changed ones.
    pub fn flush(&mut self, ctx: &Ctx) {
        if self.fresh.is_empty() {
            return;
        }
        let fresh = std::mem::take(&mut self.fresh);
        match merge_minutes(ctx, fresh, &mut self.behind) {
            Ok(changed) => ship(ctx, &changed),
            Err(e) => {
                ctx.metrics.store_errors.inc();
                tracing::error!(error = %e, "could not store minute rollups");
            }
        }
    }

    /// Recomputes the hour and day buckets of the monitors checked since the last time.
    pub fn derive(&mut self, ctx: &Ctx) {
        self.flush(ctx);
        let behind = std::mem::take(&mut self.behind);
        let mut changed = Vec::new();
        for (id, minute) in behind {
            match derive_one(ctx, &id, minute) {
                Ok(c) => changed.extend(c),
                Err(e) => {
                    ctx.metrics.store_errors.inc();
                    tracing::error!(error = %e, "could not store hour and day rollups");
                    return;
                }
            }
        }
        ship(ctx, &changed);
    }

    /// Monitors with checks not yet flushed.
    pub fn pending(&self) -> usize {
        self.fresh.len()
    }
}

fn merge_minutes(
    ctx: &Ctx,
    fresh: HashMap<(String, u64), Bucket>,
    behind: &mut HashMap<String, u64>,
) -> StoreResult<Vec<Rollup>> {
    let mut deltas = Vec::with_capacity(fresh.len());
    for ((id, minute), delta) in fresh {
        let newest = behind.entry(id.clone()).or_insert(minute);
        *newest = (*newest).max(minute);
        deltas.push(Rollup {
            monitor_id: id,
            node: ctx.name.clone(),
            resolution: Resolution::Minute,
            bucket: delta,
        });
    }
    ctx.store.add_to_rollups(deltas)
}

/// Recomputes the hour holding `minute` from its minutes, and the day from its hours. The
/// hour before is recomputed too when `minute` is the first of its hour (its last minutes
/// may have come after the previous pass).
fn derive_one(ctx: &Ctx, id: &str, minute: u64) -> StoreResult<Vec<Rollup>> {
    let hour = Resolution::Hour.floor(minute);
    let mut hours = vec![hour];
    if minute - hour < DERIVE_EVERY.as_millis() as u64 * 2 && hour > 0 {
        hours.insert(0, hour - Resolution::Hour.width_ms());
    }
    let mut changed = Vec::new();
    let mut days = HashSet::new();
    for hour in hours {
        changed.extend(roll_up(ctx, id, Resolution::Hour, hour)?);
        days.insert(Resolution::Day.floor(hour));
    }
    for day in days {
        changed.extend(roll_up(ctx, id, Resolution::Day, day)?);
    }
    Ok(changed)
}

/// Recomputes this node's bucket of `resolution` starting at `start` from the stored block of
/// the finer resolution that spans it (an hour's minutes, a day's hours) and stores it.
fn roll_up(ctx: &Ctx, id: &str, resolution: Resolution, start: u64) -> StoreResult<Vec<Rollup>> {
    let finer = match resolution {
        Resolution::Day => Resolution::Hour,
        _ => Resolution::Minute,
    };
    let Some(block) = ctx.store.rollup_block(id, &ctx.name, finer, start)? else {
        return Ok(Vec::new());
    };
    let mut bucket = summarize(block.buckets());
    bucket.start_ms = start;
    ctx.store.merge_rollups(vec![Rollup {
        monitor_id: id.to_owned(),
        node: ctx.name.clone(),
        resolution,
        bucket,
    }])
}

/// Sends changed buckets to every peer.
fn ship(ctx: &Ctx, changed: &[Rollup]) {
    if changed.is_empty() || !ctx.has_peers() {
        return;
    }
    for chunk in changed.chunks(ROLLUPS_PER_FRAME) {
        let frames = chunk.iter().map(to_frame).collect();
        ctx.broadcast(|| PeerMsg::Rollups(frames));
    }
}
