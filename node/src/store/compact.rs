//! Packing: a monitor's rows become blocks, in bounded atomic steps.
//!
//! **When.** Each append counts the results it wrote per monitor; a monitor with
//! [`PACK_AFTER_RESULTS`] new ones is due, and the append packs due monitors after its own
//! write, one step each, about as many rows as it wrote (at most [`PACKS_PER_APPEND`]
//! monitors): packing keeps pace with appending without a burst ever holding up the caller
//! (the recorder, on the async runtime). A monitor's first count starts at a fixed offset from
//! its id, so monitors created together do not all fall due in the same second. The retention prune the recorder runs for
//! every monitor (`Store::prune_results`) then packs whatever rows are left, whatever their
//! number: the tail of a slow monitor, rows of a store written before blocks existed, rows a
//! restart left uncounted. Nothing else packs: opening a store costs nothing extra.
//!
//! **How.** A step reads up to [`PACK_STEP_ROWS`] of the monitor's rows, oldest first, and
//! places each run of them:
//! - rows inside the span of an existing block (late or repeated results) are merged into it,
//!   a row replacing an entry of the same (time, node); a block grown past
//!   [`BLOCK_MAX_RESULTS`] is split;
//! - rows between blocks or after the last one fill the preceding block up to
//!   [`BLOCK_RESULTS`] (if it has room), then make new blocks of [`BLOCK_RESULTS`];
//! - rows before a block this build cannot read (newer or corrupt) stay rows, as do rows it
//!   cannot read itself.
//!
//! Blocks are cut only between different milliseconds, so blocks never overlap in time:
//! that is what lets reads scan rows and blocks separately ([`super::results`]).
//!
//! **Crash safety.** Each run is one `Kv::apply` on the `results` tree: the new blocks are
//! written, the old block and the packed rows deleted, all or nothing (sled applies a batch
//! atomically, also across a crash). There is no moment at which a result is in neither
//! form, or in a block and a row with different contents that a read would not reconcile
//! (a row wins over the block entry it repeats). Packing holds the results lock, so an append
//! cannot rewrite a row between its read and its deletion.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ringwatch_proto::{MonitorId, ProbeResult};

use super::blocks::{self, Block};
use super::keys;
use super::records::{self, ResultBody};
use super::results::{Merge, after};
use super::{Store, StoreResult, Tree};

/// Results per block when packing rows in time order.
pub const BLOCK_RESULTS: usize = 64;
/// A block that late results grow past this is split into blocks of [`BLOCK_RESULTS`].
pub const BLOCK_MAX_RESULTS: usize = 2 * BLOCK_RESULTS;
/// A monitor is due for packing once this many of its results were appended since its last
/// pack.
pub const PACK_AFTER_RESULTS: u32 = BLOCK_RESULTS as u32;
/// Rows one packing step reads: the bound on one step's work and lock time.
pub const PACK_STEP_ROWS: usize = 1_024;
/// Due monitors one append packs at most (one step each); more wait for the next append.
/// Below that, an append packs about as many rows as it wrote: one due monitor per
/// [`PACK_AFTER_RESULTS`] results appended, at least one.
pub const PACKS_PER_APPEND: usize = 64;
/// The `appended` count of a monitor waiting in the queue.
const QUEUED: u32 = u32::MAX;

/// The results lock and which monitors are due for packing. One per store, shared by clones.
#[derive(Debug, Default)]
pub(super) struct Packing {
    /// Read by result reads, written by appends, packing and pruning of results.
    lock: RwLock<()>,
    due: Mutex<Due>,
}

#[derive(Debug, Default)]
struct Due {
    /// Results appended per monitor since it was last packed (the first time from an offset,
    /// see [`first_count`]), or [`QUEUED`].
    appended: HashMap<MonitorId, u32>,
    queue: VecDeque<MonitorId>,
}

impl Packing {
    pub fn read(&self) -> RwLockReadGuard<'_, ()> {
        self.lock.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, ()> {
        self.lock.write().unwrap_or_else(|p| p.into_inner())
    }

    fn due(&self) -> std::sync::MutexGuard<'_, Due> {
        self.due.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts appended results; returns the monitors to pack now, oldest due first.
    fn note(&self, results: &[ProbeResult]) -> Vec<MonitorId> {
        let mut due = self.due();
        let Due { appended, queue } = &mut *due;
        for r in results {
            let n = match appended.get_mut(&r.monitor_id) {
                Some(n) => n,
                None => appended
                    .entry(r.monitor_id.clone())
                    .or_insert_with(|| first_count(&r.monitor_id)),
            };
            if *n != QUEUED {
                *n += 1;
                if *n >= PACK_AFTER_RESULTS {
                    *n = QUEUED;
                    queue.push_back(r.monitor_id.clone());
                }
            }
        }
        let budget = results.len().div_ceil(PACK_AFTER_RESULTS as usize);
        let take = queue.len().min(budget).min(PACKS_PER_APPEND);
        let ready: Vec<MonitorId> = queue.drain(..take).collect();
        for id in &ready {
            // Counting starts over (a monitor forgotten meanwhile stays forgotten).
            if let Some(n) = appended.get_mut(id) {
                *n = 0;
            }
        }
        ready
    }

    /// Puts a monitor with rows left after its step back in the queue.
    fn requeue(&self, id: MonitorId) {
        let mut due = self.due();
        if due.appended.insert(id.clone(), QUEUED) != Some(QUEUED) {
            due.queue.push_back(id);
        }
    }

    /// Starts a monitor's count over: its rows were all packed.
    fn packed(&self, id: &str) {
        let mut due = self.due();
        if let Some(n) = due.appended.get_mut(id).filter(|n| **n != QUEUED) {
            *n = 0;
        }
    }

    /// Drops a monitor's count: its results were all deleted.
    pub fn forget(&self, id: &str) {
        self.due().appended.remove(id);
    }
}

/// A block read back for packing or pruning.
pub(super) struct Stored {
    pub key: Vec<u8>,
    /// `None` when this build cannot read it (a newer version, or corrupt): it is left alone.
    pub block: Option<Block>,
    pub last_ms: u64,
}

/// What one packing step did.
struct Step {
    packed: usize,
    /// Where the next step starts; `None` when no rows were left past this step's.
    next: Option<Vec<u8>>,
}

/// Where a run of rows goes.
enum Place {
    /// Into this block, whose span holds them.
    Into(Stored),
    /// Between blocks (before the first time given) or past the last block.
    Gap(Option<u64>),
    /// Nowhere: a block this build cannot read ends at or after them.
    Stay(u64),
}

impl Store {
    /// After an append: one packing step for each monitor that is due. A failure is logged
    /// and left to the next pass: the rows stay rows, every one of them readable.
    pub(super) fn pack_due(&self, appended: &[ProbeResult]) {
        for id in self.packing.note(appended) {
            let (from, _) = keys::result_range(&id, 0);
            match self.pack_step(&id, from) {
                Ok(Step {
                    packed,
                    next: Some(_),
                }) if packed > 0 => self.packing.requeue(id),
                Ok(_) => {}
                Err(e) => tracing::warn!(monitor = %id, error = %e, "packing results failed"),
            }
        }
    }

    /// Packs every row of a monitor, step by step. Returns how many it packed.
    pub(super) fn pack_all(&self, id: &str) -> StoreResult<usize> {
        let (mut from, _) = keys::result_range(id, 0);
        let mut packed = 0;
        loop {
            let step = self.pack_step(id, from)?;
            packed += step.packed;
            match step.next {
                Some(next) => from = next,
                None => {
                    self.packing.packed(id);
                    return Ok(packed);
                }
            }
        }
    }

    /// Packs up to [`PACK_STEP_ROWS`] of the monitor's rows from key `from`, one atomic batch
    /// per run of rows with one destination.
    fn pack_step(&self, id: &str, from: Vec<u8>) -> StoreResult<Step> {
        let _writing = self.packing.write();
        let (_, to) = keys::result_range(id, 0);
        let page = self
            .kv
            .range(Tree::Results, &from, &to, false, PACK_STEP_ROWS)?;
        let next = (page.len() == PACK_STEP_ROWS)
            .then(|| page.last().map(|(k, _)| after(k)))
            .flatten();
        // Only rows this build reads are packed; the others stay as they are.
        let mut rows: Vec<(Vec<u8>, ResultBody)> = page
            .into_iter()
            .filter_map(|(k, v)| Some((k, records::decode_row(&v).ok()?)))
            .collect();
        rows.sort_by_key(|(_, b)| (b.at_ms, keys::node_hash(&b.node)));
        let mut rows = rows.into_iter().peekable();
        let mut packed = 0;
        while let Some((_, first)) = rows.peek() {
            let t = first.at_ms;
            let place = self.place(id, t)?;
            let fits = |at: u64| match &place {
                Place::Into(b) => at <= b.last_ms,
                Place::Gap(Some(end)) => at < *end,
                Place::Gap(None) => true,
                Place::Stay(last) => at <= *last,
            };
            let mut run = Vec::new();
            while let Some(row) = rows.next_if(|(_, b)| fits(b.at_ms)) {
                run.push(row);
            }
            packed += self.pack_run(id, place, run)?;
        }
        Ok(Step { packed, next })
    }

    /// Where rows from time `t` on go.
    fn place(&self, id: &str, t: u64) -> StoreResult<Place> {
        let Some(next) = self.block_from(id, t)? else {
            return Ok(Place::Gap(None));
        };
        Ok(match next.block.as_ref().map(first_ms) {
            None => Place::Stay(next.last_ms),
            Some(first) if first <= t => Place::Into(next),
            Some(first) => Place::Gap(Some(first)),
        })
    }

    /// Writes one run of rows (sorted, all of one [`Place`]) into blocks and deletes them, in
    /// one atomic batch. Returns how many rows it packed.
    fn pack_run(
        &self,
        id: &str,
        place: Place,
        run: Vec<(Vec<u8>, ResultBody)>,
    ) -> StoreResult<usize> {
        let Some((_, first)) = run.first() else {
            return Ok(0);
        };
        let (base, chunk) = match place {
            Place::Stay(_) => return Ok(0),
            Place::Into(block) => (Some(block), BLOCK_MAX_RESULTS),
            // Fill the block before the gap first, if it has room.
            Place::Gap(_) => (
                self.block_before(id, first.at_ms)?
                    .filter(|b| b.block.as_ref().is_some_and(|b| b.len() < BLOCK_RESULTS)),
                BLOCK_RESULTS,
            ),
        };
        let mut batch: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        let mut merge = Merge::new(0);
        if let Some(Stored {
            key,
            block: Some(block),
            ..
        }) = base
        {
            batch.insert(key, None);
            merge.add_block(block);
        }
        let packed = run.len();
        for (key, body) in run {
            batch.insert(key, None);
            merge.add_row(body);
        }
        let merged = merge.all();
        let size = if merged.len() > chunk {
            BLOCK_RESULTS
        } else {
            merged.len()
        };
        for part in chunks(merged, size) {
            let last = part.last().map_or(0, |b| b.at_ms);
            batch.insert(keys::block_key(id, last), Some(blocks::encode(&part)));
        }
        self.kv.apply(Tree::Results, batch.into_iter().collect())?;
        Ok(packed)
    }

    /// The first block whose newest result is at or after `t`.
    pub(super) fn block_from(&self, id: &str, t: u64) -> StoreResult<Option<Stored>> {
        let (from, to) = keys::block_range(id, t);
        self.one_block(id, &from, &to, false)
    }

    /// The last block whose newest result is before `t`.
    fn block_before(&self, id: &str, t: u64) -> StoreResult<Option<Stored>> {
        let (from, _) = keys::block_range(id, 0);
        self.one_block(id, &from, &keys::block_key(id, t), true)
    }

    /// The first block in `[from, to)` (the last with `reverse`).
    fn one_block(
        &self,
        id: &str,
        from: &[u8],
        to: &[u8],
        reverse: bool,
    ) -> StoreResult<Option<Stored>> {
        let prefix_len = keys::block_prefix(id).len();
        let Some((key, value)) = self.kv.range(Tree::Results, from, to, reverse, 1)?.pop() else {
            return Ok(None);
        };
        Ok(keys::block_time(&key, prefix_len).map(|last_ms| Stored {
            block: blocks::decode(&value).ok(),
            key,
            last_ms,
        }))
    }
}

/// Where a monitor's count starts the first time this store sees it: spread over
/// `0..PACK_AFTER_RESULTS` by its id, so packing waves of monitors started together drift apart.
fn first_count(id: &str) -> u32 {
    (crate::domain::hash::stable_hash(id.as_bytes()) % u64::from(PACK_AFTER_RESULTS)) as u32
}

/// The time of a block's oldest result.
fn first_ms(block: &Block) -> u64 {
    (0..block.len()).map(|i| block.at_ms(i)).min().unwrap_or(0)
}

/// Cuts results sorted by time into parts of `size` (at least one), only ever between two
/// different milliseconds: a part may run longer to keep one millisecond together.
fn chunks(results: Vec<ResultBody>, size: usize) -> Vec<Vec<ResultBody>> {
    let size = size.max(1);
    let mut parts: Vec<Vec<ResultBody>> = Vec::new();
    for r in results {
        match parts.last_mut() {
            Some(part) if part.len() < size || part.last().is_some_and(|p| p.at_ms == r.at_ms) => {
                part.push(r)
            }
            _ => parts.push(vec![r]),
        }
    }
    parts
}

#[cfg(test)]
#[path = "compact_tests.rs"]
pub(super) mod tests;
