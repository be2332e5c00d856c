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
//! - `results`:  a monitor's results as rows (key = `len(id) id at_ms(be u64)
//!   node_hash(be u32)`, value = one result body) and blocks (key = `0x00 len(id) id
//!   last_ms(be u64)`, value = many results, compactly coded: `blocks.rs`). Appends write
//!   rows; packing (`compact.rs`) turns them into blocks of about 64 results; a read merges
//!   both (`results.rs`). Each kind is in time order, so a window is two range scans.
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
//! - `rollups`: key = `len(id) id resolution block_start(be u64) node`, value = a block of
//!   history buckets (`domain::rollup::Block`); see `store/rollups.rs`.
//!
//! Opening a store migrates records of older versions to the current one ([`migrate`]). A
//! record of a newer version (a newer build wrote it) stays on disk untouched: reads skip
//! it, pruning and migration leave it, and opening reports how many there are. A record that
//! fails to decode is skipped and counted (`corrupt_records`), never fatal.

mod blocks;
mod compact;
mod definitions;
mod keys;
pub mod memory;
pub mod migrate;
mod records;
mod results;
mod rollups;
pub mod sled_kv;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ringwatch_proto::{
    DecodeError, Delivery, MonitorId, MonitorState, RECORD_VERSION, Transition, decode_record,
    encode_record, version_of,
};
use serde::Serialize;

pub use keys::{result_key, result_prefix};
pub use rollups::Rollup;

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
    Rollups,
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
            Tree::Rollups => "rollups",
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
    /// The results lock and the monitors due for packing ([`compact`]).
    packing: Arc<compact::Packing>,
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
            packing: Arc::default(),
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

    fn decode_or_skip<T: ringwatch_proto::Record>(&self, what: &str, bytes: &[u8]) -> Option<T> {
        self.readable(what, decode_record(bytes))
    }

    /// The decoded value, or `None` after logging (and counting, unless a newer build wrote
    /// it) a record that does not decode.
    fn readable<T>(&self, what: &str, decoded: Result<T, DecodeError>) -> Option<T> {
        match decoded {
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

    /// Stores the zone of each of these nodes (the zone their results are counted in).
    pub fn put_node_zones(&self, zones: &[(String, String)]) -> StoreResult<()> {
        let writes = zones
            .iter()
            .map(|(node, zone)| {
                let key = format!("zone/{node}").into_bytes();
                (key, Some(zone.as_bytes().to_vec()))
            })
            .collect();
        self.kv.apply(Tree::Meta, writes)
    }

    /// The zone of every node this store has heard of, by name.
    pub fn node_zones(&self) -> StoreResult<std::collections::BTreeMap<String, String>> {
        Ok(self
            .kv
            .range(Tree::Meta, b"zone/", b"zone0", false, usize::MAX)?
            .into_iter()
            .filter_map(|(k, v)| {
                let node = std::str::from_utf8(k.get(5..)?).ok()?.to_owned();
                Some((node, String::from_utf8(v).ok()?))
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

    /// Deletes a monitor's status changes (and their deliveries) from before `before_ms`,
    /// except its newest change, which holds its current status. Returns how many changes.
    pub fn prune_transitions(&self, id: &str, before_ms: u64) -> StoreResult<usize> {
        let (from, to) = keys::prefix_range(id);
        let rows = self
            .kv
            .range(Tree::Transitions, &from, &to, false, usize::MAX)?;
        let newest = rows.len().saturating_sub(1);
        let mut old = Vec::new();
        for (i, (k, v)) in rows.into_iter().enumerate() {
            if i == newest || is_future(&v) {
                continue;
            }
            if let Some(t) = self.decode_or_skip::<Transition>("transition", &v)
                && t.at_ms < before_ms
            {
                old.push((k, t.seq));
            }
        }
        if old.is_empty() {
            return Ok(0);
        }
        let mut deliveries = Vec::new();
        for (_, seq) in &old {
            let from = keys::transition_key(id, *seq);
            let to = keys::prefix_end(&from).unwrap_or_default();
            for (k, _) in self
                .kv
                .range(Tree::Deliveries, &from, &to, false, usize::MAX)?
            {
                deliveries.push((k, None));
            }
        }
        self.kv.apply(Tree::Deliveries, deliveries)?;
        let n = old.len();
        self.kv.apply(
            Tree::Transitions,
            old.into_iter().map(|(k, _)| (k, None)).collect(),
        )?;
        Ok(n)
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

    fn decode_all<T: ringwatch_proto::Record>(
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

/// The block layout's encoder and decoder, for the fuzz targets (`crate::fuzz`).
#[cfg(test)]
pub(crate) mod fuzzing {
    use ringwatch_proto::{DecodeError, ProbeResult};

    use super::blocks;
    use super::records::ResultBody;

    /// A block record holding `results` (their monitor ids are not stored).
    pub fn encode_block(results: &[ProbeResult]) -> Vec<u8> {
        let bodies: Vec<ResultBody> = results
            .iter()
            .map(|r| ResultBody {
                at_ms: r.at_ms,
                ok: r.ok,
                status_code: r.status_code,
                latency_ms: r.latency_ms,
                error: r.error.clone(),
                error_kind: r.error_kind,
                node: r.node.clone(),
                tls_days_left: r.tls_days_left,
                zone: String::new(),
            })
            .collect();
        blocks::encode(&bodies)
    }

    /// Every result a block record holds, as monitor `m`'s; checks its head's count agrees.
    pub fn decode_block(bytes: &[u8]) -> Result<Vec<ProbeResult>, DecodeError> {
        let block = blocks::decode(bytes)?;
        assert_eq!(
            blocks::count(bytes),
            Ok(block.len()),
            "head and body disagree"
        );
        Ok((0..block.len())
            .map(|i| {
                assert_eq!(block.at_ms(i), block.body(i).at_ms);
                let _ = block.node(i);
                block.body(i).into_result("m")
            })
            .collect())
    }

    /// How many results a block record says it holds, from its head alone.
    pub fn block_count(bytes: &[u8]) -> Result<usize, DecodeError> {
        blocks::count(bytes)
    }

    /// A stored result body (the layout of one result outside a block).
    pub fn decode_result_body(bytes: &[u8]) -> Result<ProbeResult, DecodeError> {
        super::records::decode_row(bytes).map(|b| b.into_result("m"))
    }
}
