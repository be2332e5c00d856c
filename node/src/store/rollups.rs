//! Rollup blocks: the `rollups` tree.
//!
//! Key: `len(id) id resolution(1 byte) block_start(be u64) node`, value: a
//! [`Block`](crate::domain::rollup::Block) record (the buckets of one monitor, one probing
//! node and one resolution within one block span). One monitor's blocks of one resolution are
//! contiguous and in time order, every node's side by side, so a window is one range scan.
//!
//! Writes are read-modify-write of whole blocks; the recorder is their one writer, so two
//! writes of one block never interleave.

use std::collections::BTreeMap;

use super::keys::result_prefix;
use super::{Store, StoreResult, Tree, Write};
use crate::domain::rollup::{Block, Bucket, Resolution};

/// One bucket of one monitor as one node counted it: what the store takes and gives, and
/// what peers ship (full state, see [`Bucket::supersedes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollup {
    pub monitor_id: String,
    pub node: String,
    pub resolution: Resolution,
    pub bucket: Bucket,
}

fn block_prefix(id: &str, resolution: Resolution) -> Vec<u8> {
    let mut k = result_prefix(id);
    k.push(resolution.code());
    k
}

fn block_key(id: &str, resolution: Resolution, block_start: u64, node: &str) -> Vec<u8> {
    let mut k = block_prefix(id, resolution);
    k.extend_from_slice(&block_start.to_be_bytes());
    k.extend_from_slice(node.as_bytes());
    k
}

/// The node name at the end of a block key of monitor `id`.
fn node_of(id: &str, key: &[u8]) -> Option<String> {
    let skip = result_prefix(id).len() + 1 + 8;
    key.get(skip..)
        .and_then(|n| std::str::from_utf8(n).ok())
        .map(str::to_owned)
}

impl Store {
    /// A stored block, or `None` (skipped and counted like any record this build cannot read).
    fn decode_block(&self, bytes: &[u8]) -> Option<Block> {
        match Block::decode(bytes) {
            Ok(b) => Some(b),
            Err(ringwatch_proto::DecodeError::Version { found, .. })
                if found > ringwatch_proto::RECORD_VERSION =>
            {
                None
            }
            Err(e) => {
                self.corrupt
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(error = %e, "skipping an undecodable rollup block");
                None
            }
        }
    }

    /// Stores bucket states, keeping per bucket the one with more checks. Returns the ones
    /// that changed something (a repeat or an older state changes nothing). A bucket whose
    /// start is not a step of its resolution is dropped.
    pub fn merge_rollups(&self, rollups: Vec<Rollup>) -> StoreResult<Vec<Rollup>> {
        self.update_rollups(rollups, |_, r| r)
    }

    /// Adds new checks (each rollup's bucket holds only them) to the stored buckets, in one
    /// read and one write per block. Returns the full states that changed.
    pub fn add_to_rollups(&self, deltas: Vec<Rollup>) -> StoreResult<Vec<Rollup>> {
        self.update_rollups(deltas, |stored, mut r| {
            if let Some(stored) = stored {
                let mut sum = stored.clone();
                sum.merge(&r.bucket);
                r.bucket = sum;
            }
            r
        })
    }

    /// Stores what `state` makes of each rollup and the bucket stored for it, by the
    /// one-writer rule, reading and writing each block once.
    fn update_rollups(
        &self,
        rollups: Vec<Rollup>,
        state: impl Fn(Option<&Bucket>, Rollup) -> Rollup,
    ) -> StoreResult<Vec<Rollup>> {
        let mut blocks: BTreeMap<Vec<u8>, (Block, bool)> = BTreeMap::new();
        let mut changed = Vec::new();
        for r in rollups {
            let start = r.resolution.block_start(r.bucket.start_ms);
            let key = block_key(&r.monitor_id, r.resolution, start, &r.node);
            let entry = match blocks.entry(key) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    let block = self
                        .kv
                        .get(Tree::Rollups, e.key())?
                        .and_then(|v| self.decode_block(&v))
                        .filter(|b| b.resolution() == r.resolution && b.start_ms() == start)
                        .unwrap_or_else(|| Block::new(r.resolution, start));
                    e.insert((block, false))
                }
            };
            let r = state(entry.0.get(r.bucket.start_ms), r);
            match entry.0.upsert(&r.bucket) {
                Ok(true) => {
                    entry.1 = true;
                    changed.push(r);
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "a rollup bucket out of place; dropped");
                }
            }
        }
        let writes: Vec<Write> = blocks
            .into_iter()
            .filter(|(_, (_, dirty))| *dirty)
            .map(|(k, (b, _))| (k, Some(b.encode())))
            .collect();
        if !writes.is_empty() {
            self.kv.apply(Tree::Rollups, writes)?;
        }
        Ok(changed)
    }

    /// The stored block of one monitor, node and resolution holding time `at_ms`.
    pub fn rollup_block(
        &self,
        id: &str,
        node: &str,
        resolution: Resolution,
        at_ms: u64,
    ) -> StoreResult<Option<Block>> {
        let start = resolution.block_start(at_ms);
        let key = block_key(id, resolution, start, node);
        Ok(self
            .kv
            .get(Tree::Rollups, &key)?
            .and_then(|v| self.decode_block(&v)))
    }

    /// Every node's buckets of monitor `id` at `resolution` whose start lies in
    /// `[from_ms, to_ms)`, by node, in time order.
    pub fn rollups(
        &self,
        id: &str,
        resolution: Resolution,
        from_ms: u64,
        to_ms: u64,
    ) -> StoreResult<Vec<(String, Bucket)>> {
        let prefix = block_prefix(id, resolution);
        let mut from = prefix.clone();
        from.extend_from_slice(&resolution.block_start(from_ms).to_be_bytes());
        let mut to = prefix;
        to.extend_from_slice(&to_ms.to_be_bytes());
        let mut out = Vec::new();
        for (k, v) in self
            .kv
            .range(Tree::Rollups, &from, &to, false, usize::MAX)?
        {
            let (Some(node), Some(block)) = (node_of(id, &k), self.decode_block(&v)) else {
                continue;
            };
            out.extend(
                block
                    .into_buckets()
                    .into_iter()
                    .filter(|b| b.starts_in(from_ms, to_ms))
                    .map(|b| (node.clone(), b)),
            );
        }
        Ok(out)
    }

    /// Every block of monitor `id` (all resolutions, all nodes) with a block start at or
    /// after `since_ms`, as bucket states: what a peer that was away gets.
    pub fn rollups_since(&self, id: &str, since_ms: u64) -> StoreResult<Vec<Rollup>> {
        let mut out = Vec::new();
        for res in Resolution::all() {
            let since = res.block_start(since_ms);
            for (node, bucket) in self.rollups(id, res, since, u64::MAX)? {
                out.push(Rollup {
                    monitor_id: id.to_owned(),
                    node,
                    resolution: res,
                    bucket,
                });
            }
        }
        Ok(out)
    }

    /// What monitor `id`'s rollups take, per resolution: `(blocks, buckets, bytes of keys and
    /// values)`, finest first (for benchmarks and capacity planning).
    pub fn rollup_footprint(&self, id: &str) -> StoreResult<[(u64, u64, u64); 3]> {
        let mut out = [(0, 0, 0); 3];
        for (i, res) in Resolution::all().into_iter().enumerate() {
            let prefix = block_prefix(id, res);
            let mut to = prefix.clone();
            to.push(0xff);
            for (k, v) in self
                .kv
                .range(Tree::Rollups, &prefix, &to, false, usize::MAX)?
            {
                let buckets = Block::decode(&v).map_or(0, |b| b.buckets().len() as u64);
                out[i].0 += 1;
                out[i].1 += buckets;
                out[i].2 += (k.len() + v.len()) as u64;
            }
        }
        Ok(out)
    }

    /// Deletes blocks of monitor `id` at `resolution` that end at or before `before_ms`
    /// (whole blocks only: a block is kept until all of it is past). Returns how many.
    pub fn prune_rollups(
        &self,
        id: &str,
        resolution: Resolution,
        before_ms: u64,
    ) -> StoreResult<usize> {
        let prefix = block_prefix(id, resolution);
        let from = prefix.clone();
        let mut to = prefix;
        let cutoff = if before_ms == u64::MAX {
            u64::MAX
        } else {
            // Blocks (aligned) starting at or before `before_ms - span` end by `before_ms`.
            match before_ms.checked_sub(resolution.block_ms()) {
                Some(last) => last + 1,
                None => 0,
            }
        };
        to.extend_from_slice(&cutoff.to_be_bytes());
        let deletes: Vec<Write> = self
            .kv
            .range(Tree::Rollups, &from, &to, false, usize::MAX)?
            .into_iter()
            .filter(|(_, v)| !super::is_future(v))
            .map(|(k, _)| (k, None))
            .collect();
        let n = deletes.len();
        if n > 0 {
            self.kv.apply(Tree::Rollups, deletes)?;
        }
        Ok(n)
    }
}
