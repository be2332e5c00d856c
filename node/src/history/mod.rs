//! History: rollups of probe results (checks, successes, failures by kind and latency
//! percentiles per minute, hour and day), kept on every node, and the questions asked of them
//! (uptime over a window, a chart's series).
//!
//! - [`writer`]: the rollups of this node's own probes. The recorder feeds it every result it
//!   stores and flushes it every [`writer::FLUSH_EVERY`]: minute buckets are written, hour
//!   and day buckets are recomputed from the stored finer ones, and every changed bucket is
//!   shipped to the peers in full. Each bucket has one writer (the node that probed), so a
//!   repeat or a reorder is harmless (`domain::rollup::Bucket::supersedes`).
//! - [`sync`]: rollups from peers, and the pull a node makes when a session with a peer
//!   opens (so a node that joins or returns after raw results expired gets them).
//! - [`query`]: `stats` over a window (uptime from the status timeline, counts and latency
//!   from the rollups), `series` for charts, and the figures of the monitor list.
//! - [`prune`]: retention of rollups and status changes.
//!
//! The pure core (buckets, sketches, availability) is `domain::rollup` and `domain::uptime`.

pub mod prune;
pub mod query;
pub mod sync;
pub mod writer;

use ringwatch_proto::RollupFrame;

use crate::domain::rollup::{Bucket, Resolution};
use crate::store::Rollup;

/// A stored rollup as it travels.
pub fn to_frame(r: &Rollup) -> RollupFrame {
    RollupFrame {
        monitor_id: r.monitor_id.clone(),
        node: r.node.clone(),
        resolution: r.resolution.code(),
        bucket: ringwatch_proto::encode_record(&r.bucket),
    }
}

/// A rollup from a peer, if it decodes.
pub fn from_frame(f: RollupFrame) -> Option<Rollup> {
    let resolution = Resolution::from_code(f.resolution)?;
    let bucket: Bucket = ringwatch_proto::decode_record(&f.bucket).ok()?;
    Some(Rollup {
        monitor_id: f.monitor_id,
        node: f.node,
        resolution,
        bucket,
    })
}

#[cfg(test)]
mod tests;
