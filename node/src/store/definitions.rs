//! The definition trees: `monitors` and `notifiers` (keyed by id) and the shared `definitions`
//! tree (keyed by `kind 0x00 id`). Records are written whole and read whole; which record wins
//! is the replicated table's business (`state::table`), not the store's.

use ringwatch_proto::{Monitor, Notifier};
use serde::Serialize;

use super::{Store, StoreResult, Tree, encode_record, keys};

impl Store {
    /// Writes records under the given keys in one atomic batch.
    pub fn put_keyed<'a, T: Serialize + 'a>(
        &self,
        tree: Tree,
        items: impl IntoIterator<Item = (Vec<u8>, &'a T)>,
    ) -> StoreResult<()> {
        let writes = items
            .into_iter()
            .map(|(k, v)| (k, Some(encode_record(v))))
            .collect();
        self.kv.apply(tree, writes)
    }

    /// Every readable record of `tree` whose key starts with `prefix` (all of them for an
    /// empty prefix), in key order. `what` names the records in logs.
    pub fn scan_prefix<T: ringwatch_proto::Record>(
        &self,
        tree: Tree,
        prefix: &[u8],
        what: &str,
    ) -> StoreResult<Vec<T>> {
        let rows = if prefix.is_empty() {
            self.kv.scan(tree)?
        } else if let Some(end) = keys::prefix_end(prefix) {
            self.kv.range(tree, prefix, &end, false, usize::MAX)?
        } else {
            self.kv.scan_from(tree, prefix, usize::MAX)?
        };
        self.decode_all(what, rows)
    }

    pub fn put_monitor(&self, m: &Monitor) -> StoreResult<()> {
        self.put_monitors(std::slice::from_ref(m))
    }

    /// Writes several definitions in one atomic batch.
    pub fn put_monitors(&self, ms: &[Monitor]) -> StoreResult<()> {
        self.put_keyed(
            Tree::Monitors,
            ms.iter().map(|m| (m.id.clone().into_bytes(), m)),
        )
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
        self.scan_prefix(Tree::Monitors, b"", "monitor")
    }

    /// Writes notifier definitions (tombstones too) in one batch.
    pub fn put_notifiers(&self, ns: &[Notifier]) -> StoreResult<()> {
        self.put_keyed(
            Tree::Notifiers,
            ns.iter().map(|n| (n.id.clone().into_bytes(), n)),
        )
    }

    /// Every notifier definition, tombstones included.
    pub fn notifiers(&self) -> StoreResult<Vec<Notifier>> {
        self.scan_prefix(Tree::Notifiers, b"", "notifier")
    }
}
