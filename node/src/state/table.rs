//! One replicated table for every kind of definition (monitors, notifiers, and any kind added
//! later): the in-memory map of one kind's records, tombstones included, and the one path
//! every local write, peer merge, config-file seed and full sync of that kind takes.
//!
//! A kind is a type plus its [`Definition`] impl: its name, how to read its id, revision and
//! tombstone flag, how to validate it, where it is stored and how it travels. Nothing else.
//!
//! The merge rule, written once ([`supersedes`]): a record replaces the one held under its id
//! only if its revision is higher (HLC, then node name); equal revisions are the same write.
//! That is a total order, so merging any set of writes in any order, any number of times, ends
//! in the same state. A delete is a tombstone carrying the deleting revision: it wins over
//! older edits, and an older edit arriving later cannot bring the record back. Tombstones are
//! kept for good (one small record each): dropping them would let a node returning from any
//! absence resurrect what was deleted.
//!
//! What a peer sends is checked before it is merged ([`Table::merge`]): a record whose id is
//! not a plain name, whose revision is more than [`MAX_FUTURE`] ahead of this node's wall clock
//! (it would win over every edit for that long, and drag every node's clock along) or would
//! overflow the clock, or that the kind's own validation refuses (the API's rules), is logged,
//! counted in [`Merged::refused`] and never stored. So is a record larger than
//! [`MAX_RECORD_BYTES`].
//!
//! What goes to peers goes in messages of at most [`MAX_MESSAGE_BYTES`] of records
//! ([`Table::messages`], [`Table::sync_messages`]), far below the transport's frame limit.
//!
//! Promises: a write is in the store before it is in the map, and before the caller sends it
//! to peers; the check and the write of a batch happen under one lock, so a merge racing a
//! local edit never stores the older of the two.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use ringwatch_proto::{DecodeError, PeerMsg, Rev, chunks_by_size, decode_record, encode_record};

use crate::clock::{Hlc, now_ms};
use crate::domain::spec::MAX_DEFINITION_BYTES;
use crate::store::{Store, StoreResult, Tree};

mod admit;
use admit::admit;
pub use admit::check_rev;

/// How far ahead of this node's wall clock a peer's revision may be. Further ahead is refused:
/// clocks of a healthy cluster are within seconds of each other, and a revision from far in
/// the future would win over every edit made until then. The one skew bound of every time a
/// peer sends ([`crate::clock::MAX_CLOCK_SKEW`]).
pub const MAX_FUTURE: Duration = crate::clock::MAX_CLOCK_SKEW;

/// Largest record of any kind a peer may send, encoded: the largest definition the API makes
/// ([`MAX_DEFINITION_BYTES`]) plus what the node adds (id, revision, creation time).
pub const MAX_RECORD_BYTES: usize = MAX_DEFINITION_BYTES + 256;

/// What the definitions of one message add up to at most, encoded ([`Table::messages`]): far
/// below the peer transport's frame limit (16 MiB, over which a frame is refused and its
/// session closed), whatever the definitions weigh.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

/// Where a kind's records are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A tree of its own, keyed by id (monitors and notifiers, whose trees predate the table).
    Tree(Tree),
    /// The shared `definitions` tree, keyed by `kind 0x00 id`: what a new kind needs no store
    /// change for.
    Shared,
}

/// The accessors every kind's record has the fields for (`id: String`, `rev: Rev`,
/// `deleted: bool`): written once here, used in each kind's `impl Definition`.
macro_rules! record_fields {
    () => {
        fn id(&self) -> &str {
            &self.id
        }

        fn rev(&self) -> &ringwatch_proto::Rev {
            &self.rev
        }

        fn set_rev(&mut self, rev: ringwatch_proto::Rev) {
            self.rev = rev;
        }

        fn is_deleted(&self) -> bool {
            self.deleted
        }
    };
}
pub(crate) use record_fields;

/// One replicated kind of definition.
pub trait Definition: Clone + fmt::Debug + ringwatch_proto::Record + Send + Sync + 'static {
    /// The kind's name: in logs, metrics, store keys of the shared tree, and as the tag of
    /// [`PeerMsg::Records`]. Never changes once released.
    const KIND: &'static str;
    /// Where the records are stored.
    const STORED: Stored = Stored::Shared;

    fn id(&self) -> &str;
    fn rev(&self) -> &Rev;
    fn set_rev(&mut self, rev: Rev);
    fn is_deleted(&self) -> bool;
    /// Turns the record into its own tombstone (the table then gives it the deleting revision).
    fn bury(&mut self);
    /// Checks a record from a peer as the API checks input; the error says why, for people.
    /// Only live records are checked: a tombstone's body is never used, and refusing one would
    /// let an older edit bring the record back.
    fn validate(&self) -> Result<(), String>;

    /// The message that carries a batch of records to peers.
    fn to_message(batch: Vec<Self>) -> PeerMsg {
        PeerMsg::Records {
            kind: Self::KIND.to_owned(),
            records: batch.iter().map(encode_record).collect(),
        }
    }

    /// The records a peer's message carries, if it is one of this kind's; else the message
    /// back, for the next kind to look at.
    fn from_message(msg: PeerMsg) -> Result<Vec<Result<Self, DecodeError>>, PeerMsg> {
        records_of::<Self>(msg)
    }
}

/// The records of a [`PeerMsg::Records`] message of kind `D`, or the message back.
pub fn records_of<D: Definition>(msg: PeerMsg) -> Result<Vec<Result<D, DecodeError>>, PeerMsg> {
    match msg {
        PeerMsg::Records { kind, records } if kind == D::KIND => {
            Ok(records.iter().map(|r| decode_record(r)).collect())
        }
        other => Err(other),
    }
}

/// The merge rule: whether `incoming` replaces `current`. Highest revision wins (clock, then
/// node name); equal revisions are the same write.
pub fn supersedes(incoming: &Rev, current: Option<&Rev>) -> bool {
    current.is_none_or(|c| incoming > c)
}

/// What merging a peer's batch did.
#[derive(Debug)]
pub struct Merged<D> {
    /// Records that were new here or replaced an older revision, stored, in id order.
    pub changed: Vec<Arc<D>>,
    /// Records refused (undecodable, revision out of bounds, invalid): logged, not stored.
    pub refused: usize,
}

impl<D> Default for Merged<D> {
    fn default() -> Self {
        Merged {
            changed: Vec::new(),
            refused: 0,
        }
    }
}

/// One shared record in a set, found by its own id: the id is not stored a second time as a
/// key (at 200,000 monitors a separate key cost about 0.1 KiB each). The table's rows and the
/// prober pool's assignments are sets of these.
pub struct ById<D>(pub Arc<D>);

impl<D: Definition> std::borrow::Borrow<str> for ById<D> {
    fn borrow(&self) -> &str {
        self.0.id()
    }
}

impl<D: Definition> PartialEq for ById<D> {
    fn eq(&self, other: &Self) -> bool {
        self.0.id() == other.0.id()
    }
}

impl<D: Definition> Eq for ById<D> {}

impl<D: Definition> std::hash::Hash for ById<D> {
    // Must hash as the `str` it borrows as, so lookups by `&str` find it.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id().hash(state);
    }
}

type Rows<D> = HashSet<ById<D>>;

/// Every record of one kind, tombstones included, by id; backed by the store.
pub struct Table<D: Definition> {
    store: Store,
    /// This node's name: the node of every revision written here.
    node: String,
    rows: RwLock<Rows<D>>,
    /// Refusals not logged yet, and when the last line about them was (unix ms): a peer
    /// sending refused records is logged at most once per [`REFUSAL_LOG_EVERY_MS`].
    refusals_unlogged: std::sync::Mutex<(u64, u64)>,
}

/// Refused records of one kind are logged at most once per this many milliseconds, with how
/// many were refused since the last line (each is counted in the metrics all the same).
pub const REFUSAL_LOG_EVERY_MS: u64 = 10_000;

impl<D: Definition> fmt::Debug for Table<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("kind", &D::KIND)
            .field("records", &self.read().len())
            .finish_non_exhaustive()
    }
}

impl<D: Definition> Table<D> {
    /// The table of every stored record of the kind; `node` names this node in revisions.
    pub fn load(store: Store, node: impl Into<String>) -> StoreResult<Self> {
        let all: Vec<D> = match D::STORED {
            Stored::Tree(tree) => store.scan_prefix(tree, b"", D::KIND)?,
            Stored::Shared => store.scan_prefix(Tree::Definitions, &Self::key(""), D::KIND)?,
        };
        let rows = all.into_iter().map(|d| ById(Arc::new(d))).collect();
        Ok(Table {
            store,
            node: node.into(),
            rows: RwLock::new(rows),
            refusals_unlogged: Default::default(),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Rows<D>> {
        self.rows.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Rows<D>> {
        self.rows.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The store key of the record `id`.
    fn key(id: &str) -> Vec<u8> {
        match D::STORED {
            Stored::Tree(_) => id.as_bytes().to_vec(),
            Stored::Shared => [D::KIND.as_bytes(), b"\0", id.as_bytes()].concat(),
        }
    }

    fn persist<'a>(&self, records: impl IntoIterator<Item = &'a D>) -> StoreResult<()> {
        let tree = match D::STORED {
            Stored::Tree(tree) => tree,
            Stored::Shared => Tree::Definitions,
        };
        let items = records.into_iter().map(|d| (Self::key(d.id()), d));
        self.store.put_keyed(tree, items)
    }

    /// Stores records (all or none) and takes them into the map; returns them shared.
    fn commit(&self, rows: &mut Rows<D>, records: Vec<D>) -> StoreResult<Vec<Arc<D>>> {
        self.persist(&records)?;
        let shared: Vec<Arc<D>> = records.into_iter().map(Arc::new).collect();
        for d in &shared {
            rows.replace(ById(d.clone()));
        }
        Ok(shared)
    }

    fn commit_one(&self, rows: &mut Rows<D>, record: D) -> StoreResult<Arc<D>> {
        self.persist([&record])?;
        let record = Arc::new(record);
        rows.replace(ById(record.clone()));
        Ok(record)
    }

    /// A record, tombstone or not.
    pub fn get(&self, id: &str) -> Option<Arc<D>> {
        self.read().get(id).map(|r| r.0.clone())
    }

    /// A record, unless unknown or deleted.
    pub fn get_live(&self, id: &str) -> Option<Arc<D>> {
        self.get(id).filter(|d| !d.is_deleted())
    }

    /// The records not deleted, in id order.
    pub fn live(&self) -> Vec<Arc<D>> {
        let mut v: Vec<_> = self
            .read()
            .iter()
            .map(|r| &r.0)
            .filter(|d| !d.is_deleted())
            .cloned()
            .collect();
        v.sort_by(|a, b| a.id().cmp(b.id()));
        v
    }

    /// Every record, tombstones included, in id order.
    pub fn all(&self) -> Vec<Arc<D>> {
        let mut v: Vec<_> = self.read().iter().map(|r| r.0.clone()).collect();
        v.sort_by(|a, b| a.id().cmp(b.id()));
        v
    }

    /// Records held, tombstones included.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes records made on this node now: each gets a fresh revision, then `stamped` may
    /// set what derives from it (a creation time). All are stored or none.
    pub fn put_with(
        &self,
        mut records: Vec<D>,
        hlc: &Hlc,
        mut stamped: impl FnMut(&mut D),
    ) -> StoreResult<Vec<Arc<D>>> {
        let mut rows = self.write();
        for d in &mut records {
            d.set_rev(self.rev_now(hlc));
            stamped(d);
        }
        self.commit(&mut rows, records)
    }

    /// Writes records made on this node now, each with a fresh revision.
    pub fn put(&self, records: Vec<D>, hlc: &Hlc) -> StoreResult<Vec<Arc<D>>> {
        self.put_with(records, hlc, |_| {})
    }

    /// Writes one record made on this node now, with a fresh revision.
    pub fn put_one(&self, mut record: D, hlc: &Hlc) -> StoreResult<Arc<D>> {
        let mut rows = self.write();
        record.set_rev(self.rev_now(hlc));
        self.commit_one(&mut rows, record)
    }

    /// A revision for a write made on this node now.
    fn rev_now(&self, hlc: &Hlc) -> Rev {
        Rev {
            hlc: hlc.now(),
            node: self.node.clone(),
        }
    }

    /// Deletes a record: stores its tombstone with a fresh revision and returns it; `None` if
    /// there was no such record, or it was deleted already.
    pub fn delete(&self, id: &str, hlc: &Hlc) -> StoreResult<Option<Arc<D>>> {
        let mut rows = self.write();
        let Some(current) = rows.get(id).map(|r| &r.0).filter(|d| !d.is_deleted()) else {
            return Ok(None);
        };
        let mut tomb = (**current).clone();
        tomb.bury();
        tomb.set_rev(self.rev_now(hlc));
        self.commit_one(&mut rows, tomb).map(Some)
    }

    /// Merges records from a peer with the merge rule, after checking each (module doc); the
    /// clock is moved past every revision taken. Safe to repeat and to reorder.
    pub fn merge(&self, incoming: Vec<D>, hlc: &Hlc) -> Merged<D> {
        self.merge_decoded(incoming.into_iter().map(Ok).collect(), hlc)
    }

    /// Merges the records of a peer's message if it carries this kind; else hands it back.
    pub fn receive(&self, msg: PeerMsg, hlc: &Hlc) -> Result<Merged<D>, PeerMsg> {
        D::from_message(msg).map(|records| self.merge_decoded(records, hlc))
    }

    fn merge_decoded(&self, incoming: Vec<Result<D, DecodeError>>, hlc: &Hlc) -> Merged<D> {
        let wall_ms = now_ms();
        let mut refused = Vec::new();
        let mut checked = Vec::with_capacity(incoming.len());
        for d in incoming {
            match admit(d, wall_ms) {
                Ok(d) => checked.push(d),
                Err(why) => refused.push(why),
            }
        }
        if let Some((id, why)) = refused.first()
            && let Some(count) = self.refusals_to_log(refused.len() as u64, wall_ms)
        {
            tracing::warn!(
                kind = D::KIND,
                count,
                "refused records from a peer; the last batch's first {id:?}: {why}"
            );
        }
        let refused = refused.len();
        let mut rows = self.write();
        let mut newer: BTreeMap<String, D> = BTreeMap::new();
        for d in checked {
            // Checked above: within the skew, so the clock takes it.
            hlc.observe(d.rev().hlc);
            let current = newer
                .get(d.id())
                .map(|n| n.rev())
                .or_else(|| rows.get(d.id()).map(|c| c.0.rev()));
            if supersedes(d.rev(), current) {
                newer.insert(d.id().to_owned(), d);
            }
        }
        let changed = match self.commit(&mut rows, newer.into_values().collect()) {
            Ok(changed) => changed,
            Err(e) => {
                tracing::error!(kind = D::KIND, error = %e, "cannot store records from a peer");
                Vec::new()
            }
        };
        Merged { changed, refused }
    }

    /// Notes `n` refused records at `now_ms`; `Some(count)` when a log line is due, counting
    /// every refusal since the last line.
    fn refusals_to_log(&self, n: u64, now_ms: u64) -> Option<u64> {
        let mut guard = self
            .refusals_unlogged
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let (pending, last) = &mut *guard;
        *pending += n;
        if *last != 0 && now_ms.saturating_sub(*last) < REFUSAL_LOG_EVERY_MS {
            return None;
        }
        *last = now_ms.max(1);
        Some(std::mem::take(pending))
    }

    /// Adds the config file's records whose id this node does not hold, not even as a
    /// tombstone (what was deleted stays deleted). They keep the revision they come with
    /// (zero), so any later edit wins over the file. Returns those added.
    pub fn seed(&self, records: Vec<D>) -> StoreResult<Vec<Arc<D>>> {
        let mut rows = self.write();
        let mut fresh: BTreeMap<String, D> = BTreeMap::new();
        for d in records {
            if !rows.contains(d.id()) {
                fresh.entry(d.id().to_owned()).or_insert(d);
            }
        }
        self.commit(&mut rows, fresh.into_values().collect())
    }

    /// The message that sends `records` to peers, all in one (tests, and a single record).
    pub fn message(records: &[Arc<D>]) -> PeerMsg {
        D::to_message(records.iter().map(|d| (**d).clone()).collect())
    }

    /// The messages that send `records` to peers, each at most [`MAX_MESSAGE_BYTES`] of
    /// records (a record larger than that alone in one; no node makes one).
    pub fn messages(records: &[Arc<D>]) -> Vec<PeerMsg> {
        Self::messages_within(records, MAX_MESSAGE_BYTES)
    }

    fn messages_within(records: &[Arc<D>], max_bytes: usize) -> Vec<PeerMsg> {
        chunks_by_size(records, max_bytes)
            .into_iter()
            .map(Self::message)
            .collect()
    }

    /// Everything a new peer needs of this kind, tombstones included, in messages of at most
    /// `max_bytes` of records each.
    pub fn sync_messages(&self, max_bytes: usize) -> Vec<PeerMsg> {
        Self::messages_within(&self.all(), max_bytes)
    }
}

#[cfg(test)]
mod tests;
