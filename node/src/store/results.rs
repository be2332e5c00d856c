//! The results API over the `results` tree, which holds a monitor's results in two forms
//! (key layouts in [`super::keys`]):
//! - **rows**, one result each, as every append writes them: cheap, idempotent (a repeat
//!   delivery lands on the same key) and crash-safe;
//! - **blocks** ([`super::blocks`]) of about [`BLOCK_RESULTS`] results, which packing
//!   ([`super::compact`]) makes of the rows, in the same tree.
//!
//! Blocks of one monitor never overlap in time, so each kind is in time order by itself and a
//! read is two range scans, rows and blocks, merged. A row and a block entry of the same
//! (time, node) are the same result: the row is the newer write and wins. Reads, appends,
//! packing and pruning of results share one lock (readers in parallel, writers alone), so a
//! read never sees a result both packed and gone, or neither.
//!
//! Ids are never empty (the server makes them); the empty id has no results here: appends
//! skip it and reads find nothing, because its row keys would share the blocks' first byte.

use ringwatch_proto::ProbeResult;

use super::blocks::{self, Block};
use super::compact::BLOCK_RESULTS;
use super::keys::{self, node_hash};
use super::records::{self, ResultBody, ResultBodyRef};
use super::{Store, StoreResult, Tree, Write, encode_record, is_future};

/// Keys read and at most deleted per atomic batch of a prune.
const PRUNE_BATCH_KEYS: usize = 10_000;
/// Raw pairs read from the tree.
type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

impl Store {
    /// Appends results in one batch. Results of one monitor at the same millisecond from the
    /// same node overwrite each other (a repeat delivery is idempotent), also when the first
    /// copy is already packed into a block. Then packs the monitors that have enough new rows
    /// (see `compact.rs`), about as many rows as it wrote.
    pub fn append_results(&self, results: &[ProbeResult]) -> StoreResult<()> {
        let writes: Vec<Write> = results
            .iter()
            .filter(|r| !r.monitor_id.is_empty())
            .map(|r| {
                (
                    keys::result_key(&r.monitor_id, r.at_ms, &r.node),
                    Some(encode_record(&ResultBodyRef::from(r))),
                )
            })
            .collect();
        if writes.is_empty() {
            return Ok(());
        }
        {
            let _writing = self.packing.write();
            self.kv.apply(Tree::Results, writes)?;
        }
        self.pack_due(results);
        Ok(())
    }

    /// Results of a monitor with `at_ms >= since_ms`, oldest first, at most `limit`.
    pub fn results(&self, id: &str, since_ms: u64, limit: usize) -> StoreResult<Vec<ProbeResult>> {
        if limit == 0 || id.is_empty() {
            return Ok(Vec::new());
        }
        let (rows, blocks) = {
            let _reading = self.packing.read();
            let (from, to) = keys::result_range(id, since_ms);
            let rows = self.kv.range(Tree::Results, &from, &to, false, limit)?;
            // Only the first block can hold results before `since_ms`.
            let blocks = self.block_pages(id, since_ms, false, limit)?;
            (rows, blocks)
        };
        let mut merge = Merge::new(since_ms);
        self.add_found(&mut merge, rows, blocks);
        Ok(into_results(id, merge.oldest(limit)))
    }

    /// The newest `limit` results of a monitor, oldest first.
    pub fn latest_results(&self, id: &str, limit: usize) -> StoreResult<Vec<ProbeResult>> {
        if limit == 0 || id.is_empty() {
            return Ok(Vec::new());
        }
        let (rows, blocks) = {
            let _reading = self.packing.read();
            let (from, to) = keys::result_range(id, 0);
            let rows = self.kv.range(Tree::Results, &from, &to, true, limit)?;
            let blocks = self.block_pages(id, 0, true, limit)?;
            (rows, blocks)
        };
        let mut merge = Merge::new(0);
        self.add_found(&mut merge, rows, blocks);
        Ok(into_results(id, merge.newest(limit)))
    }

    /// The monitor's blocks from the first ending at or after `since_ms` (forward) or from
    /// the newest (`reverse`), until they hold at least `want` results. Going forward, the
    /// first block does not count: it may hold results before `since_ms`.
    fn block_pages(
        &self,
        id: &str,
        since_ms: u64,
        reverse: bool,
        want: usize,
    ) -> StoreResult<Pairs> {
        let (mut from, mut to) = keys::block_range(id, since_ms);
        let mut out: Pairs = Vec::new();
        let mut held = 0usize;
        loop {
            let straddles = !reverse && out.is_empty();
            let page_len = want
                .saturating_sub(held)
                .div_ceil(BLOCK_RESULTS)
                .saturating_add(usize::from(straddles))
                .max(1);
            let page = self
                .kv
                .range(Tree::Results, &from, &to, reverse, page_len)?;
            let full = page.len() == page_len;
            if let Some((last, _)) = page.last() {
                if reverse {
                    to = last.clone();
                } else {
                    from = after(last);
                }
            }
            for (k, v) in page {
                if !(straddles && out.is_empty()) {
                    held = held.saturating_add(blocks::count(&v).unwrap_or(0));
                }
                out.push((k, v));
            }
            if !full || held >= want {
                return Ok(out);
            }
        }
    }

    /// Decodes rows and blocks into `merge`, skipping (and counting) what cannot be read.
    fn add_found(&self, merge: &mut Merge, rows: Pairs, blocks: Pairs) {
        for (_, v) in rows {
            if let Some(body) = self.readable("result", records::decode_row(&v)) {
                merge.add_row(body);
            }
        }
        for (_, v) in blocks {
            if let Some(block) = self.readable("result block", blocks::decode(&v)) {
                merge.add_block(block);
            }
        }
    }

    /// Deletes results of a monitor older than `before_ms` (all of them with `u64::MAX`).
    /// Returns how many were deleted. Works in bounded batches. Results of a newer record
    /// version stay: this build cannot tell what they are.
    ///
    /// Rows and whole blocks older than the cutoff go; the one block that straddles it is
    /// rewritten without its older results, so retention is exact. This is also the store's
    /// maintenance pass for the monitor: the rows left afterwards are packed into blocks.
    pub fn prune_results(&self, id: &str, before_ms: u64) -> StoreResult<usize> {
        if id.is_empty() {
            return Ok(0);
        }
        let all = before_ms == u64::MAX;
        let (from, end) = keys::result_range(id, 0);
        let to = if all {
            end
        } else {
            keys::result_range(id, before_ms).0
        };
        let mut pruned = self.prune_range(from, &to, |_| 1)?;
        let (from, end) = keys::block_range(id, 0);
        let to = if all {
            end
        } else {
            keys::block_key(id, before_ms)
        };
        pruned += self.prune_range(from, &to, |v| blocks::count(v).unwrap_or(0))?;
        if all {
            self.packing.forget(id);
            return Ok(pruned);
        }
        pruned += self.trim_block(id, before_ms)?;
        self.pack_all(id)?;
        Ok(pruned)
    }

    /// Deletes every record in `[from, to)` but those of a newer version, in batches.
    /// Returns the results they held (`held` of each value).
    fn prune_range(
        &self,
        mut from: Vec<u8>,
        to: &[u8],
        held: impl Fn(&[u8]) -> usize,
    ) -> StoreResult<usize> {
        let mut total = 0;
        loop {
            let _writing = self.packing.write();
            let page = self
                .kv
                .range(Tree::Results, &from, to, false, PRUNE_BATCH_KEYS)?;
            let Some((last, _)) = page.last() else {
                return Ok(total);
            };
            let full = page.len() == PRUNE_BATCH_KEYS;
            from = after(last);
            let mut deletes: Vec<Write> = Vec::new();
            for (k, v) in page.into_iter().filter(|(_, v)| !is_future(v)) {
                total += held(&v);
                deletes.push((k, None));
            }
            self.kv.apply(Tree::Results, deletes)?;
            if !full {
                return Ok(total);
            }
        }
    }

    /// Rewrites the block holding results on both sides of `before_ms` without the older
    /// ones. Returns how many it dropped.
    fn trim_block(&self, id: &str, before_ms: u64) -> StoreResult<usize> {
        let _writing = self.packing.write();
        let Some(stored) = self.block_from(id, before_ms)? else {
            return Ok(0);
        };
        let Some(block) = stored.block else {
            return Ok(0);
        };
        let mut merge = Merge::new(before_ms);
        let held = block.len();
        merge.add_block(block);
        let kept = merge.all();
        let dropped = held - kept.len();
        if dropped > 0 {
            let value = (!kept.is_empty()).then(|| blocks::encode(&kept));
            self.kv.apply(Tree::Results, vec![(stored.key, value)])?;
        }
        Ok(dropped)
    }
}

/// The smallest key after `key`.
pub(super) fn after(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

fn into_results(id: &str, bodies: Vec<ResultBody>) -> Vec<ProbeResult> {
    bodies.into_iter().map(|b| b.into_result(id)).collect()
}

/// Where a merged result comes from. Rows sort before block entries of the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Row(usize),
    Block(usize, usize),
}

/// Results of one monitor from rows and blocks, in row-key order (time, then node hash), one
/// per key: a row wins over a block entry of the same key. Results before `since_ms` are left
/// out. Block entries are only turned into results when they are picked.
pub(super) struct Merge {
    since_ms: u64,
    rows: Vec<Option<ResultBody>>,
    blocks: Vec<Block>,
    order: Vec<(u64, u32, Source)>,
}

impl Merge {
    pub fn new(since_ms: u64) -> Self {
        Merge {
            since_ms,
            rows: Vec::new(),
            blocks: Vec::new(),
            order: Vec::new(),
        }
    }

    pub fn add_row(&mut self, body: ResultBody) {
        if body.at_ms >= self.since_ms {
            let source = Source::Row(self.rows.len());
            self.order.push((body.at_ms, node_hash(&body.node), source));
            self.rows.push(Some(body));
        }
    }

    pub fn add_block(&mut self, block: Block) {
        let b = self.blocks.len();
        for i in 0..block.len() {
            let at = block.at_ms(i);
            if at >= self.since_ms {
                self.order
                    .push((at, node_hash(block.node(i)), Source::Block(b, i)));
            }
        }
        self.blocks.push(block);
    }

    /// Every result, oldest first.
    pub fn all(self) -> Vec<ResultBody> {
        self.oldest(usize::MAX)
    }

    /// The oldest `n` results, oldest first.
    pub fn oldest(mut self, n: usize) -> Vec<ResultBody> {
        let mut order = self.sorted();
        order.truncate(n);
        self.pick(order)
    }

    /// The newest `n` results, oldest first.
    pub fn newest(mut self, n: usize) -> Vec<ResultBody> {
        let mut order = self.sorted();
        let skip = order.len().saturating_sub(n);
        order.drain(..skip);
        self.pick(order)
    }

    fn sorted(&mut self) -> Vec<(u64, u32, Source)> {
        let mut order = std::mem::take(&mut self.order);
        order.sort_unstable();
        order.dedup_by_key(|(at, node, _)| (*at, *node));
        order
    }

    fn pick(&mut self, order: Vec<(u64, u32, Source)>) -> Vec<ResultBody> {
        order
            .into_iter()
            .filter_map(|(_, _, source)| match source {
                Source::Row(i) => self.rows[i].take(),
                Source::Block(b, i) => Some(self.blocks[b].body(i)),
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "results_tests.rs"]
mod tests;
