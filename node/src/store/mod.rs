//! Durable state of a node: monitor definitions (with tombstones), probe results and status.
//!
//! Everything above this module talks to [`Store`]; the storage engine sits behind the small
//! ordered key-value trait [`Kv`], implemented by sled ([`sled_kv`]) and by an in-memory twin
//! ([`memory`]) used in tests. No other module names sled.
//!
//! Layout (all values are `proto::encode`d: a version byte, then postcard):
//! - `monitors`: key = id, value = [`Monitor`] (deleted ones stay as tombstones).
//! - `results`:  key = `len(id) id at_ms(be u64) node_hash(be u32)`, value = result body.
//!   One monitor's results are contiguous and in time order, so a window is one range scan.
//! - `states`:   key = id, value = [`MonitorState`].
//! - `meta`:     key = `wm/<node>`, value = newest result time (unix ms, be u64) held from
//!   that probing node: the watermarks anti-entropy starts from.
//! - `notifiers`: key = id, value = [`Notifier`] (tombstones too).
//! - `transitions`: key = `len(id) id seq(be u64)`, value = [`Transition`]: a monitor's
//!   status changes in order, the history incidents are made of.
//! - `deliveries`: key = transition key + channel id, value = [`Delivery`]: notifications
//!   sent (or given up), so they are never sent twice.
//!
//! A record that fails to decode is skipped and counted (`corrupt_records`), never fatal.

mod keys;
pub mod memory;
pub mod sled_kv;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ringwatch_proto::{
    Delivery, ErrorKind, Monitor, MonitorId, MonitorState, Notifier, ProbeResult, Transition,
    decode, encode,
};
use serde::{Deserialize, Serialize};

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
    /// Makes every earlier write durable.
    fn flush(&self) -> StoreResult<()>;
    /// Bytes the engine uses on disk (0 for memory).
    fn disk_bytes(&self) -> u64;
}

/// A stored result without the monitor id, which the key already holds. [`ResultBodyRef`]
/// writes the same layout without copying strings.
#[derive(Deserialize)]
struct ResultBody {
    at_ms: u64,
    ok: bool,
    status_code: Option<u16>,
    latency_ms: u64,
    error: Option<String>,
    error_kind: Option<ErrorKind>,
    node: String,
    tls_days_left: Option<i64>,
}

#[derive(Serialize)]
struct ResultBodyRef<'a> {
    at_ms: u64,
    ok: bool,
    status_code: Option<u16>,
    latency_ms: u64,
    error: Option<&'a str>,
    error_kind: Option<ErrorKind>,
    node: &'a str,
    tls_days_left: Option<i64>,
}

/// The node's store. Cheap to clone; all clones share one engine.
#[derive(Clone)]
pub struct Store {
    kv: Arc<dyn Kv>,
    corrupt: Arc<AtomicU64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// Opens (or creates) the on-disk store in `dir`.
    pub fn open(dir: &Path, cache_bytes: u64) -> StoreResult<Self> {
        Ok(Self::with_engine(Arc::new(sled_kv::SledKv::open(
            dir,
            cache_bytes,
        )?)))
    }

    /// A store that lives in memory only, for tests.
    pub fn in_memory() -> Self {
        Self::with_engine(Arc::new(memory::MemoryKv::default()))
    }

    pub fn with_engine(kv: Arc<dyn Kv>) -> Self {
        Store {
            kv,
            corrupt: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Records skipped because they failed to decode, since the store was opened.
    pub fn corrupt_records(&self) -> u64 {
        self.corrupt.load(Ordering::Relaxed)
    }

    fn decode_or_skip<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        bytes: &[u8],
    ) -> Option<T> {
        match decode(bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.corrupt.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(record = what, error = %e, "skipping undecodable stored record");
                None
            }
        }
    }

    pub fn put_monitor(&self, m: &Monitor) -> StoreResult<()> {
        self.put_monitors(std::slice::from_ref(m))
    }

    /// Writes several definitions in one atomic batch.
    pub fn put_monitors(&self, ms: &[Monitor]) -> StoreResult<()> {
        let writes = ms
            .iter()
            .map(|m| (m.id.as_bytes().to_vec(), Some(encode(m))))
            .collect();
        self.kv.apply(Tree::Monitors, writes)
    }

    /// A definition, including a tombstone.
    pub fn get_monitor(&self, id: &str) -> StoreResult<Option<Monitor>> {
        Ok(self
            .kv
            .get(Tree::Monitors, id.as_bytes())?
            .and_then(|b| self.decode_or_skip("monitor", &b)))
    }

    /// Every definition, tombstones included.
    pub fn monitors(&self) -> StoreResult<Vec<Monitor>> {
        Ok(self
            .kv
            .scan(Tree::Monitors)?
            .into_iter()
            .filter_map(|(_, v)| self.decode_or_skip("monitor", &v))
            .collect())
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
                let body = ResultBodyRef {
                    at_ms: r.at_ms,
                    ok: r.ok,
                    status_code: r.status_code,
                    latency_ms: r.latency_ms,
                    error: r.error.as_deref(),
                    error_kind: r.error_kind,
                    node: &r.node,
                    tls_days_left: r.tls_days_left,
                };
                (
                    result_key(&r.monitor_id, r.at_ms, &r.node),
                    Some(encode(&body)),
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
            .map(|b| ProbeResult {
                monitor_id: id.to_owned(),
                at_ms: b.at_ms,
                ok: b.ok,
                status_code: b.status_code,
                latency_ms: b.latency_ms,
                error: b.error,
                error_kind: b.error_kind,
                node: b.node,
                tls_days_left: b.tls_days_left,
            })
            .collect())
    }

    /// Deletes results of a monitor older than `before_ms` (all of them with `u64::MAX`).
    /// Returns how many were deleted. Works in bounded batches.
    pub fn prune_results(&self, id: &str, before_ms: u64) -> StoreResult<usize> {
        const BATCH: usize = 10_000;
        let (from, _) = keys::result_range(id, 0);
        let (to, _) = keys::result_range(id, before_ms);
        let to = if before_ms == u64::MAX {
            keys::result_range(id, 0).1
        } else {
            to
        };
        let mut total = 0;
        loop {
            let rows = self.kv.range(Tree::Results, &from, &to, false, BATCH)?;
            let n = rows.len();
            if n == 0 {
                return Ok(total);
            }
            self.kv.apply(
                Tree::Results,
                rows.into_iter().map(|(k, _)| (k, None)).collect(),
            )?;
            total += n;
            if n < BATCH {
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
            .map(|(id, s)| (id.as_bytes().to_vec(), Some(encode(s))))
            .collect();
        self.kv.apply(Tree::States, writes)
    }

    pub fn delete_state(&self, id: &str) -> StoreResult<()> {
        self.kv
            .apply(Tree::States, vec![(id.as_bytes().to_vec(), None)])
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

    /// Writes notifier definitions (tombstones too) in one batch.
    pub fn put_notifiers(&self, ns: &[Notifier]) -> StoreResult<()> {
        let writes = ns
            .iter()
            .map(|n| (n.id.as_bytes().to_vec(), Some(encode(n))))
            .collect();
        self.kv.apply(Tree::Notifiers, writes)
    }

    /// Every notifier definition, tombstones included.
    pub fn notifiers(&self) -> StoreResult<Vec<Notifier>> {
        self.decode_all("notifier", self.kv.scan(Tree::Notifiers)?)
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
                writes.push((k, Some(encode(&item))));
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

#[cfg(test)]
mod tests;
