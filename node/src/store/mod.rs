//! Durable state of a node: monitor definitions (with tombstones), probe results and status.
//!
//! Everything above this module talks to [`Store`]; the storage engine sits behind the small
//! ordered key-value trait [`Kv`], implemented by sled ([`sled_kv`]) and by an in-memory twin
//! ([`memory`]) used in tests. No other module names sled.
//!
//! Layout (values of all trees but `meta` are `proto::encode_record`ed: a version byte, then
//! postcard; see `docs/storage-formats.md`):
//! - `monitors`: key = id, value = [`Monitor`](ringwatch_proto::Monitor) (deleted ones stay
//!   as tombstones).
//! - `results`:  key = `len(id) id at_ms(be u64) node_hash(be u32)`, value = result body.
//!   One monitor's results are contiguous and in time order, so a window is one range scan.
//! - `states`:   key = id, value = [`MonitorState`].
//! - `meta`:     key = `wm/<node>`, value = newest result time (unix ms, be u64) held from
//!   that probing node: the watermarks anti-entropy starts from. Key `format`: the store
//!   format marker, and `future/<tree>`: counts of newer records (see [`migrate`]).
//! - `notifiers`: key = id, value = [`Notifier`](ringwatch_proto::Notifier) (tombstones too).
//! - `transitions`: key = `len(id) id seq(be u64)`, value = [`Transition`]: a monitor's
//!   status changes in order, the history incidents are made of.
//! - `deliveries`: key = transition key + channel id, value = [`Delivery`]: notifications
//!   sent (or given up), so they are never sent twice.
//! - `definitions`: key = `kind 0x00 id`, value = a replicated definition of a kind added
//!   after monitors and notifiers (which keep their own trees), tombstones too. Written and
//!   read through [`Store::put_keyed`] and [`Store::scan_prefix`] by `state::table`.
//!
//! Opening a store migrates records of older versions to the current one ([`migrate`]). A
//! record of a newer version (a newer build wrote it) stays on disk untouched: reads skip
//! it, pruning and migration leave it, and opening reports how many there are. A record that
//! fails to decode is skipped and counted (`corrupt_records`), never fatal.

mod definitions;
mod keys;
pub mod memory;
pub mod migrate;
mod records;
pub mod sled_kv;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ringwatch_proto::{
    DecodeError, Delivery, MonitorId, MonitorState, ProbeResult, RECORD_VERSION, Transition,
    decode_record, encode_record, version_of,
};
use serde::Serialize;

use records::{ResultBody, ResultBodyRef};

pub use keys::{result_key, result_prefix};

/// Errors of the storage engine. Decoding problems are not errors: they are skipped and counted.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine: {0}")]
    Engine(String),
    #[error("cannot open the data directory {path}: {reason}")]
    Open { path: String, reason: String },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The named key spaces of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    Monitors,
    Results,
    States,
    Meta,
    Notifiers,
    Transitions,
    Deliveries,
    Definitions,
}

impl Tree {
    /// The tree's name on disk and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Monitors => "monitors",
            Tree::Results => "results",
            Tree::States => "states",
            Tree::Meta => "meta",
            Tree::Notifiers => "notifiers",
            Tree::Transitions => "transitions",
            Tree::Deliveries => "deliveries",
            Tree::Definitions => "definitions",
        }
    }
}

/// One write of a batch: a value to put, or `None` to delete the key.
pub type Write = (Vec<u8>, Option<Vec<u8>>);

/// An ordered key-value engine with separate trees. Implementations must be safe to call from
/// many threads; each call is short and synchronous.
pub trait Kv: Send + Sync {
    fn get(&self, tree: Tree, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;
    /// Applies all writes to one tree atomically.
    fn apply(&self, tree: Tree, writes: Vec<Write>) -> StoreResult<()>;
    /// Key-value pairs with `from <= key < to`, in key order (reversed if `reverse`), at most
    /// `limit` of them.
    fn range(
        &self,
        tree: Tree,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>>;
    /// All pairs of a tree, in key order.
    fn scan(&self, tree: Tree) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Pairs with `from <= key`, in key order, at most `limit` of them.
    fn scan_from(
        &self,
        tree: Tree,
        from: &[u8],
        limit: usize,
    ) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Makes every earlier write durable.
    fn flush(&self) -> StoreResult<()>;
    /// Bytes the engine uses on disk (0 for memory).
    fn disk_bytes(&self) -> u64;
}

/// The node's store. Cheap to clone; all clones share one engine.
#[derive(Clone)]
pub struct Store {
    kv: Arc<dyn Kv>,
    corrupt: Arc<AtomicU64>,
    /// What the migration at open found and did.
    opened: Arc<migrate::OpenReport>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the on-disk store in `dir`, migrating older records first.
    pub fn open(dir: &Path, cache_bytes: u64) -> StoreResult<Self> {
        Self::with_engine(Arc::new(sled_kv::SledKv::open(dir, cache_bytes)?))
    }

    /// A store that lives in memory only, for tests.
    pub fn in_memory() -> Self {
        Self::with_engine(Arc::new(memory::MemoryKv::default()))
            .expect("opening an empty in-memory store cannot fail")
    }

    /// Opens a store on `kv`, migrating older records first ([`migrate`]).
    pub fn with_engine(kv: Arc<dyn Kv>) -> StoreResult<Self> {
        let opened = migrate::run(kv.as_ref())?;
        Ok(Store {
            kv,
            corrupt: Arc::new(AtomicU64::new(0)),
            opened: Arc::new(opened),
        })
    }

    /// Records this build cannot read: those skipped because they failed to decode since the
    /// store was opened, plus the records of a newer version held on disk (counted once, at
    /// open: see [`Store::future_records`]).
    pub fn corrupt_records(&self) -> u64 {
        self.corrupt.load(Ordering::Relaxed) + self.future_records()
    }

    /// Records written by a newer build: kept on disk untouched, skipped by reads.
    pub fn future_records(&self) -> u64 {
        self.opened.future_records()
    }

    /// What opening the store found and migrated.
    pub fn open_report(&self) -> &migrate::OpenReport {
        &self.opened
    }

    fn decode_or_skip<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        bytes: &[u8],
    ) -> Option<T> {
        match decode_record(bytes) {
            Ok(v) => Some(v),
            // Counted and reported once, when the store opened.
            Err(DecodeError::Version { found, .. }) if found > RECORD_VERSION => {
                tracing::debug!(record = what, version = found, "skipping a newer record");
                None
            }
            Err(e) => {
                self.corrupt.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(record = what, error = %e, "skipping undecodable stored record");
                None
            }
        }
    }

    /// Appends results in one batch. Results of one monitor at the same millisecond from the
    /// same node overwrite each other (a repeat delivery is idempotent).
    pub fn append_results(&self, results: &[ProbeResult]) -> StoreResult<()> {
        if results.is_empty() {
            return Ok(());
        }
        let writes = results
            .iter()
            .map(|r| {
                (
                    result_key(&r.monitor_id, r.at_ms, &r.node),
                    Some(encode_record(&ResultBodyRef::from(r))),
                )
            })
            .collect();
        self.kv.apply(Tree::Results, writes)
    }

    /// Results of a monitor with `at_ms >= since_ms`, oldest first, at most `limit`.
    pub fn results(&self, id: &str, since_ms: u64, limit: usize) -> StoreResult<Vec<ProbeResult>> {
        let (from, _) = keys::result_range(id, since_ms);
        let (_, to) = keys::result_range(id, 0);
        self.decode_results(id, self.kv.range(Tree::Results, &from, &to, false, limit)?)
    }

    /// The newest `limit` results of a monitor, oldest first.
    pub fn latest_results(&self, id: &str, limit: usize) -> StoreResult<Vec<ProbeResult>> {
        let (from, to) = keys::result_range(id, 0);
        let mut rows = self.kv.range(Tree::Results, &from, &to, true, limit)?;
        rows.reverse();
        self.decode_results(id, rows)
    }

    fn decode_results(
        &self,
        id: &str,
        rows: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> StoreResult<Vec<ProbeResult>> {
        Ok(rows
            .into_iter()
            .filter_map(|(_, v)| self.decode_or_skip::<ResultBody>("result", &v))
            .map(|b| b.into_result(id))
            .collect())
    }

    /// Deletes results of a monitor older than `before_ms` (all of them with `u64::MAX`).
    /// Returns how many were deleted. Works in bounded batches. Results of a newer record
    /// version stay: this build cannot tell what they are.
    pub fn prune_results(&self, id: &str, before_ms: u64) -> StoreResult<usize> {
        const BATCH: usize = 10_000;
        let (mut from, _) = keys::result_range(id, 0);
        let (to, _) = keys::result_range(id, before_ms);
        let to = if before_ms == u64::MAX {
            keys::result_range(id, 0).1
        } else {
            to
        };
        let mut total = 0;
        loop {
            let rows = self.kv.range(Tree::Results, &from, &to, false, BATCH)?;
            let Some((last, _)) = rows.last() else {
                return Ok(total);
            };
            let full = rows.len() == BATCH;
            from = last.clone();
            from.push(0);
            let deletes: Vec<Write> = rows
                .into_iter()
                .filter(|(_, v)| !is_future(v))
                .map(|(k, _)| (k, None))
                .collect();
            total += deletes.len();
            self.kv.apply(Tree::Results, deletes)?;
            if !full {
                return Ok(total);
            }
        }
    }

    pub fn put_states(&self, states: &[(MonitorId, MonitorState)]) -> StoreResult<()> {
        if states.is_empty() {
            return Ok(());
        }
        let writes = states
            .iter()
            .map(|(id, s)| (id.as_bytes().to_vec(), Some(encode_record(s))))
            .collect();
        self.kv.apply(Tree::States, writes)
    }

    /// Deletes a monitor's state, unless a newer build wrote it.
    pub fn delete_state(&self, id: &str) -> StoreResult<()> {
        let key = id.as_bytes().to_vec();
        if self
            .kv
            .get(Tree::States, &key)?
            .is_some_and(|v| is_future(&v))
        {
            return Ok(());
        }
        self.kv.apply(Tree::States, vec![(key, None)])
    }

    pub fn states(&self) -> StoreResult<Vec<(MonitorId, MonitorState)>> {
        Ok(self
            .kv
            .scan(Tree::States)?
            .into_iter()
            .filter_map(|(k, v)| {
                let id = String::from_utf8(k).ok()?;
                Some((id, self.decode_or_skip("state", &v)?))
            })
            .collect())
    }

    /// Stores per-origin watermarks (newest result time held from each probing node).
    pub fn put_watermarks(&self, wms: &[(String, u64)]) -> StoreResult<()> {
        let writes = wms
            .iter()
            .map(|(node, ms)| {
                let key = format!("wm/{node}").into_bytes();
                (key, Some(ms.to_be_bytes().to_vec()))
            })
            .collect();
        self.kv.apply(Tree::Meta, writes)
    }

    pub fn watermarks(&self) -> StoreResult<Vec<(String, u64)>> {
        Ok(self
            .kv
            .range(Tree::Meta, b"wm/", b"wm0", false, usize::MAX)?
            .into_iter()
            .filter_map(|(k, v)| {
                let node = std::str::from_utf8(k.get(3..)?).ok()?.to_owned();
                let ms = u64::from_be_bytes(v.as_slice().try_into().ok()?);
                Some((node, ms))
            })
            .collect())
    }

    /// Stores status changes; one already held under the same (monitor, seq) is kept.
    /// Returns the ones that were new.
    pub fn put_transitions(&self, ts: Vec<Transition>) -> StoreResult<Vec<Transition>> {
        self.put_new(Tree::Transitions, ts, |t| {
            keys::transition_key(&t.monitor_id, t.seq)
        })
    }

    /// Writes, in one batch, the records whose key the tree does not hold yet (the first of
    /// several with one key in `items`), and returns them. Records written once never change:
    /// a later copy under the same key is a repeat, or a rival decision that lost.
    fn put_new<T: Serialize>(
        &self,
        tree: Tree,
        items: Vec<T>,
        key: impl Fn(&T) -> Vec<u8>,
    ) -> StoreResult<Vec<T>> {
        let mut seen = std::collections::HashSet::new();
        let mut fresh = Vec::with_capacity(items.len());
        let mut writes = Vec::with_capacity(items.len());
        for item in items {
            let k = key(&item);
            if seen.insert(k.clone()) && self.kv.get(tree, &k)?.is_none() {
                writes.push((k, Some(encode_record(&item))));
                fresh.push(item);
            }
        }
        self.kv.apply(tree, writes)?;
        Ok(fresh)
    }

    /// A monitor's status changes, oldest first.
    pub fn transitions(&self, id: &str) -> StoreResult<Vec<Transition>> {
        let (from, to) = keys::prefix_range(id);
        let rows = self
            .kv
            .range(Tree::Transitions, &from, &to, false, usize::MAX)?;
        self.decode_all("transition", rows)
    }

    /// One status change.
    pub fn transition(&self, id: &str, seq: u64) -> StoreResult<Option<Transition>> {
        Ok(self
            .kv
            .get(Tree::Transitions, &keys::transition_key(id, seq))?
            .and_then(|b| self.decode_or_skip("transition", &b)))
    }

    /// Whether change `seq` of monitor `id` was delivered to (or given up for) `channel`.
    pub fn delivered(&self, id: &str, seq: u64, channel: &str) -> StoreResult<bool> {
        Ok(self
            .kv
            .get(Tree::Deliveries, &keys::delivery_key(id, seq, channel))?
            .is_some())
    }

    /// Every stored status change.
    pub fn all_transitions(&self) -> StoreResult<Vec<Transition>> {
        self.decode_all("transition", self.kv.scan(Tree::Transitions)?)
    }

    /// Stores delivery records; returns the ones that were new.
    pub fn put_deliveries(&self, ds: Vec<Delivery>) -> StoreResult<Vec<Delivery>> {
        self.put_new(Tree::Deliveries, ds, |d| {
            keys::delivery_key(&d.monitor_id, d.seq, &d.channel)
        })
    }

    /// The delivery records of one monitor's changes.
    pub fn deliveries_of(&self, id: &str) -> StoreResult<Vec<Delivery>> {
        let (from, to) = keys::prefix_range(id);
        let rows = self
            .kv
            .range(Tree::Deliveries, &from, &to, false, usize::MAX)?;
        self.decode_all("delivery", rows)
    }

    /// Every delivery record.
    pub fn deliveries(&self) -> StoreResult<Vec<Delivery>> {
        self.decode_all("delivery", self.kv.scan(Tree::Deliveries)?)
    }

    fn decode_all<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        rows: Vec<(Vec<u8>, Vec<u8>)>,
    ) -> StoreResult<Vec<T>> {
        Ok(rows
            .into_iter()
            .filter_map(|(_, v)| self.decode_or_skip(what, &v))
            .collect())
    }

    pub fn flush(&self) -> StoreResult<()> {
        self.kv.flush()
    }

    pub fn disk_bytes(&self) -> u64 {
        self.kv.disk_bytes()
    }
}

/// Whether `bytes` is a record of a newer version than this build writes.
fn is_future(bytes: &[u8]) -> bool {
    version_of(bytes).is_some_and(|v| v > RECORD_VERSION)
}

#[cfg(test)]
mod tests;
