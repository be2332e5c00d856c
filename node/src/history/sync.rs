//! Rollups between nodes: the buckets peers ship as they count them, and the pull that brings
//! a node that joins or comes back the rollups it missed.
//!
//! When a session with a peer becomes ready, the node asks it for every block that starts at
//! or after its own newest held result time minus [`PULL_MARGIN_MS`] (a new node: all of
//! them), monitor by monitor in pages of at most [`PAGE_ROLLUPS`]. The day and hour blocks
//! that hold that time come whole, so a node that was away longer than the raw retention
//! still ends up with the full history. Every bucket is merged by the one-writer rule, so
//! overlaps and repeats cost bandwidth, not correctness.

use ringwatch_proto::{MonitorId, RollupFrame};

use super::{from_frame, to_frame};
use crate::context::Ctx;
use crate::store::{Rollup, StoreResult};

/// Rollups per pull page: far below the transport's frame limit (a bucket is tens of bytes).
pub const PAGE_ROLLUPS: usize = 5_000;
/// How far before its newest held result a node asks for rollups.
pub const PULL_MARGIN_MS: u64 = 2 * 3600 * 1000;

/// Rollups shipped by peers: decoded and merged. Returns how many changed the store;
/// undecodable frames are counted as refused, and so are buckets that start more than the
/// clock skew bound ahead of our clock (`crate::clock::MAX_CLOCK_SKEW`).
pub fn receive(ctx: &Ctx, frames: Vec<RollupFrame>) -> usize {
    let total = frames.len();
    let mut rollups: Vec<Rollup> = frames.into_iter().filter_map(from_frame).collect();
    let refused = total - rollups.len();
    if refused > 0 {
        ctx.metrics.peer_frames_rejected.inc_by(refused as u64);
        tracing::debug!(refused, "undecodable rollups from a peer");
    }
    let latest = crate::clock::latest_accepted_ms(crate::clock::now_ms());
    let before = rollups.len();
    rollups.retain(|r| r.bucket.start_ms <= latest);
    let future = before - rollups.len();
    if future > 0 {
        // The reason `cluster::guard` calls `future` (history is below the cluster layer).
        let label = crate::metrics::RefusalLabel {
            kind: "rollup",
            reason: "future",
        };
        let counter = ctx.metrics.peer_records_refused.get_or_create(&label);
        counter.inc_by(future as u64);
        tracing::debug!(future, "rollups from the future from a peer");
    }
    match ctx.store.merge_rollups(rollups) {
        Ok(changed) => changed.len(),
        Err(e) => {
            ctx.metrics.store_errors.inc();
            tracing::error!(error = %e, "could not store rollups from a peer");
            0
        }
    }
}

/// Where this node's pull starts: its newest held result of any origin, less the margin; 0
/// (everything) for a node that holds none.
pub fn pull_since(ctx: &Ctx) -> u64 {
    ctx.watermarks()
        .into_iter()
        .map(|(_, t)| t)
        .max()
        .map_or(0, |t| t.saturating_sub(PULL_MARGIN_MS))
}

/// One page of the rollups held from `since_ms` on, from monitor `cursor` (inclusive) in id
/// order, and the cursor of the next page. Blocking (store scans).
pub fn page(
    ctx: &Ctx,
    since_ms: u64,
    cursor: Option<MonitorId>,
) -> StoreResult<(Vec<RollupFrame>, Option<MonitorId>)> {
    let mut ids = ctx.live.ids();
    ids.sort_unstable();
    let start = cursor.unwrap_or_default();
    let mut out = Vec::new();
    for id in ids.into_iter().filter(|id| *id >= start) {
        if out.len() >= PAGE_ROLLUPS {
            return Ok((out, Some(id)));
        }
        out.extend(ctx.store.rollups_since(&id, since_ms)?.iter().map(to_frame));
    }
    Ok((out, None))
}
