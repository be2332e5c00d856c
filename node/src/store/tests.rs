//! Store behaviour, run against both engines.

use super::*;
use ringwatch_proto::{Monitor, ProbeResult, Status};

pub(super) fn result(id: &str, at_ms: u64, node: &str) -> ProbeResult {
    ProbeResult {
        monitor_id: id.into(),
        at_ms,
        ok: at_ms.is_multiple_of(2),
        status_code: Some(200),
        latency_ms: 3,
        error: None,
        error_kind: None,
        node: node.into(),
        tls_days_left: Some(30),
        zone: String::new(),
    }
}

/// The in-memory store and a sled one (with the directory that must outlive it).
pub(super) fn engines() -> Vec<(Store, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sled = Store::open(dir.path(), 16 << 20).unwrap();
    vec![(Store::in_memory(), None), (sled, Some(dir))]
}

/// An engine whose `apply` calls number `from..to` (counted from [`FailingKv::arm`]) fail and
/// write nothing, like a crash at that batch: sled applies a batch whole or not at all.
pub(super) struct FailingKv {
    inner: std::sync::Arc<dyn Kv>,
    applies: std::sync::atomic::AtomicUsize,
    from: std::sync::atomic::AtomicUsize,
    to: std::sync::atomic::AtomicUsize,
}

impl FailingKv {
    /// A wrapper that fails nothing until armed.
    pub fn new(inner: std::sync::Arc<dyn Kv>) -> Self {
        FailingKv {
            inner,
            applies: Default::default(),
            from: Default::default(),
            to: Default::default(),
        }
    }

    /// Counts `apply` calls from 0 again; numbers `from..to` fail.
    pub fn arm(&self, from: usize, to: usize) {
        use std::sync::atomic::Ordering::SeqCst;
        self.applies.store(0, SeqCst);
        self.from.store(from, SeqCst);
        self.to.store(to, SeqCst);
    }

    /// `apply` calls since the last arming.
    pub fn applies(&self) -> usize {
        self.applies.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Kv for FailingKv {
    fn get(&self, tree: Tree, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.inner.get(tree, key)
    }
    fn apply(&self, tree: Tree, writes: Vec<Write>) -> StoreResult<()> {
        use std::sync::atomic::Ordering::SeqCst;
        let n = self.applies.fetch_add(1, SeqCst);
        if (self.from.load(SeqCst)..self.to.load(SeqCst)).contains(&n) {
            return Err(StoreError::Engine("injected failure".into()));
        }
        self.inner.apply(tree, writes)
    }
    fn range(
        &self,
        tree: Tree,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        limit: usize,
    ) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.range(tree, from, to, reverse, limit)
    }
    fn scan(&self, tree: Tree) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan(tree)
    }
    fn scan_from(
        &self,
        tree: Tree,
        from: &[u8],
        limit: usize,
    ) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        self.inner.scan_from(tree, from, limit)
    }
    fn flush(&self) -> StoreResult<()> {
        self.inner.flush()
    }
    fn disk_bytes(&self) -> u64 {
        self.inner.disk_bytes()
    }
}

/// A small deterministic generator (xorshift64*), so a failing case replays.
pub(super) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn monitors_round_trip_with_tombstones() {
    for (store, _dir) in engines() {
        let mut m = Monitor::new("m-1".into(), "http://127.0.0.1/".into());
        store.put_monitor(&m).unwrap();
        m.deleted = true;
        store.put_monitor(&m).unwrap();
        let all = store.monitors().unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[0].deleted);
        assert_eq!(store.get_monitor("m-1").unwrap(), Some(m));
        assert_eq!(store.get_monitor("nope").unwrap(), None);
    }
}

#[test]
fn results_are_windowed_and_ordered() {
    for (store, _dir) in engines() {
        let rs: Vec<_> = (0..100).map(|t| result("a", 1_000 + t, "n1")).collect();
        store.append_results(&rs).unwrap();
        store.append_results(&[result("ab", 5, "n1")]).unwrap();
        let got = store.results("a", 1_050, 10).unwrap();
        assert_eq!(got.len(), 10);
        assert_eq!(got[0].at_ms, 1_050);
        assert!(got.windows(2).all(|w| w[0].at_ms < w[1].at_ms));
        assert_eq!(got[0], rs[50]);
        let latest = store.latest_results("a", 3).unwrap();
        assert_eq!(
            latest.iter().map(|r| r.at_ms).collect::<Vec<_>>(),
            vec![1_097, 1_098, 1_099]
        );
        assert_eq!(store.results("ab", 0, 100).unwrap().len(), 1);
        // Same monitor, same millisecond, two nodes: both kept.
        store
            .append_results(&[result("c", 7, "n1"), result("c", 7, "n2")])
            .unwrap();
        assert_eq!(store.results("c", 0, 10).unwrap().len(), 2);
    }
}

#[test]
fn pruning_removes_only_old_results() {
    for (store, _dir) in engines() {
        let rs: Vec<_> = (0..50).map(|t| result("a", t, "n1")).collect();
        store.append_results(&rs).unwrap();
        store.append_results(&[result("b", 1, "n1")]).unwrap();
        assert_eq!(store.prune_results("a", 20).unwrap(), 20);
        assert_eq!(store.results("a", 0, 100).unwrap()[0].at_ms, 20);
        assert_eq!(store.prune_results("a", u64::MAX).unwrap(), 30);
        assert!(store.results("a", 0, 100).unwrap().is_empty());
        assert_eq!(store.results("b", 0, 100).unwrap().len(), 1);
    }
}

#[test]
fn states_round_trip() {
    for (store, _dir) in engines() {
        let s = MonitorState {
            status: Status::Down,
            failures: 2,
            successes: 0,
            since_ms: 9,
            seq: 4,
        };
        store.put_states(&[("m".into(), s.clone())]).unwrap();
        assert_eq!(store.states().unwrap(), vec![("m".to_string(), s)]);
        store.delete_state("m").unwrap();
        assert!(store.states().unwrap().is_empty());
    }
}

#[test]
fn watermarks_round_trip() {
    for (store, _dir) in engines() {
        store
            .put_watermarks(&[("n1".into(), 5), ("n2".into(), 7)])
            .unwrap();
        store.put_watermarks(&[("n1".into(), 9)]).unwrap();
        assert_eq!(
            store.watermarks().unwrap(),
            vec![("n1".to_string(), 9), ("n2".to_string(), 7)]
        );
    }
}

#[test]
fn corrupt_records_are_skipped_and_counted() {
    for (store, _dir) in engines() {
        store
            .kv
            .apply(
                Tree::Monitors,
                vec![(b"bad".to_vec(), Some(vec![1, 0xff, 0xff]))],
            )
            .unwrap();
        store
            .kv
            .apply(
                Tree::Results,
                vec![(result_key("a", 1, "n"), Some(vec![RECORD_VERSION]))],
            )
            .unwrap();
        store
            .put_monitor(&Monitor::new("ok".into(), "http://x/".into()))
            .unwrap();
        assert_eq!(store.monitors().unwrap().len(), 1);
        assert!(store.results("a", 0, 10).unwrap().is_empty());
        assert_eq!(store.corrupt_records(), 2);
    }
}

#[test]
fn sled_reopens_with_data() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path(), 16 << 20).unwrap();
        store
            .put_monitor(&Monitor::new("m".into(), "http://x/".into()))
            .unwrap();
        store.append_results(&[result("m", 1, "n")]).unwrap();
        store.flush().unwrap();
    }
    // sled releases its file lock from a background thread after the drop: poll the reopen.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let store = loop {
        match Store::open(dir.path(), 16 << 20) {
            Ok(s) => break s,
            Err(e) if std::time::Instant::now() < deadline => {
                eprintln!("reopen not yet possible: {e}");
                std::thread::yield_now();
            }
            Err(e) => panic!("cannot reopen the store: {e}"),
        }
    };
    assert_eq!(store.monitors().unwrap().len(), 1);
    assert_eq!(store.results("m", 0, 10).unwrap().len(), 1);
    assert!(store.disk_bytes() > 0);
}

fn transition(id: &str, seq: u64, node: &str) -> Transition {
    Transition {
        monitor_id: id.into(),
        name: id.into(),
        url: "http://x/".into(),
        seq,
        from: Status::Up,
        to: Status::Down,
        at_ms: seq * 10,
        reason: "status 503".into(),
        node: node.into(),
        confirmed_by: Some("n2".into()),
        last_result: Some(result(id, seq, node)),
        channels: vec!["hook".into()],
        zones_down: Vec::new(),
        zones_reachable: 0,
    }
}

#[test]
fn transitions_keep_the_first_copy_and_list_in_order() {
    for (store, _dir) in engines() {
        let fresh = store
            .put_transitions(vec![transition("a", 2, "n1"), transition("ab", 1, "n1")])
            .unwrap();
        assert_eq!(fresh.len(), 2);
        // A second decision under the same number (a partition) does not replace the first.
        let again = store
            .put_transitions(vec![transition("a", 2, "n2"), transition("a", 1, "n2")])
            .unwrap();
        assert_eq!(again, vec![transition("a", 1, "n2")]);
        let a = store.transitions("a").unwrap();
        assert_eq!(a.iter().map(|t| t.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(a[1].node, "n1");
        assert_eq!(store.all_transitions().unwrap().len(), 3);
    }
}

#[test]
fn deliveries_are_recorded_once() {
    for (store, _dir) in engines() {
        let d = Delivery {
            monitor_id: "a".into(),
            seq: 1,
            channel: "hook".into(),
            at_ms: 5,
            node: "n1".into(),
            attempts: 4,
            failed: None,
        };
        let twice = vec![d.clone(), d.clone()];
        assert_eq!(
            store.put_deliveries(twice).unwrap().len(),
            1,
            "one per key in a batch"
        );
        assert!(store.put_deliveries(vec![d.clone()]).unwrap().is_empty());
        assert_eq!(store.deliveries().unwrap(), vec![d]);
    }
}

#[cfg(unix)]
#[test]
fn the_data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("node");
    let store = Store::open(&dir, 16 << 20).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files += 1;
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    assert!(files > 0, "sled wrote no files");
    drop(store);
}
