//! Results across rows and blocks: packing, late and repeated results, reads, pruning and
//! unreadable blocks, checked against a plain model of what was appended, on both engines.
//! The model and its helpers serve `results_tests.rs` too.

use std::collections::BTreeMap;

use ringwatch_proto::{ErrorKind, ProbeResult, RECORD_VERSION};

use super::*;
use crate::store::keys::node_hash;
use crate::store::records::ResultBodyRef;
use crate::store::tests::{Rng, engines};
use crate::store::{Write, encode_record};

pub(in crate::store) const ID: &str = "m-1";
pub(in crate::store) const START_MS: u64 = 1_760_000_000_000;

/// What the store must answer: every appended result by its row key, the last write winning.
#[derive(Default, Clone)]
pub(in crate::store) struct Model(pub BTreeMap<(u64, u32), ProbeResult>);

impl Model {
    pub fn append(&mut self, rs: &[ProbeResult]) {
        for r in rs {
            self.0.insert((r.at_ms, node_hash(&r.node)), r.clone());
        }
    }

    pub fn window(&self, since: u64, limit: usize) -> Vec<ProbeResult> {
        self.0
            .range((since, 0)..)
            .map(|(_, r)| r.clone())
            .take(limit)
            .collect()
    }

    pub fn latest(&self, limit: usize) -> Vec<ProbeResult> {
        let mut v: Vec<_> = self.0.values().rev().take(limit).cloned().collect();
        v.reverse();
        v
    }

    pub fn prune(&mut self, before: u64) -> usize {
        let n = self.0.len();
        if before == u64::MAX {
            self.0.clear();
        } else {
            self.0 = self.0.split_off(&(before, 0));
        }
        n - self.0.len()
    }

    pub fn times(&self) -> Vec<u64> {
        self.0.keys().map(|(t, _)| *t).collect()
    }
}

/// A result of monitor [`ID`] with fields that vary with `rng`.
pub(in crate::store) fn varied(at_ms: u64, node: &str, rng: &mut Rng) -> ProbeResult {
    let failed = rng.below(10) == 0;
    ProbeResult {
        monitor_id: ID.into(),
        at_ms,
        ok: !failed,
        status_code: if rng.below(20) == 0 {
            None
        } else {
            Some(200 + 300 * u16::from(failed))
        },
        latency_ms: rng.below(500),
        error: failed.then(|| format!("status {}", 500 + rng.below(3))),
        error_kind: failed.then_some(ErrorKind::BadStatus),
        node: node.into(),
        tls_days_left: (rng.below(3) > 0).then_some(40),
        zone: String::new(),
    }
}

/// `n` results from `from_ms` at about `step_ms`, mostly from node `a`.
pub(in crate::store) fn history(
    from_ms: u64,
    n: u64,
    step_ms: u64,
    rng: &mut Rng,
) -> Vec<ProbeResult> {
    (0..n)
        .map(|i| {
            let node = if rng.below(8) == 0 { "b" } else { "a" };
            varied(from_ms + i * step_ms + rng.below(4), node, rng)
        })
        .collect()
}

/// Appends in batches of `batch`, as the recorder does, and into the model.
pub(in crate::store) fn append(store: &Store, model: &mut Model, rs: &[ProbeResult], batch: usize) {
    for part in rs.chunks(batch) {
        store.append_results(part).unwrap();
        model.append(part);
    }
}

/// The monitor's rows and its blocks' `(first, last, len)` as they lie on disk; checks that
/// blocks are keyed by their newest result and never overlap.
pub(in crate::store) fn layout(store: &Store, id: &str) -> (usize, Vec<(u64, u64, usize)>) {
    let everything = |(from, to): (Vec<u8>, Vec<u8>)| {
        store
            .kv
            .range(Tree::Results, &from, &to, false, usize::MAX)
            .unwrap()
    };
    let rows = everything(keys::result_range(id, 0)).len();
    let prefix_len = keys::block_prefix(id).len();
    let mut spans: Vec<(u64, u64, usize)> = Vec::new();
    for (k, v) in everything(keys::block_range(id, 0)) {
        let last_ms = keys::block_time(&k, prefix_len).expect("a block key");
        let Ok(b) = blocks::decode(&v) else { continue };
        let times: Vec<u64> = (0..b.len()).map(|i| b.at_ms(i)).collect();
        assert!(times.is_sorted(), "a block's entries are in time order");
        assert_eq!(
            times.last(),
            Some(&last_ms),
            "a block is keyed by its newest result"
        );
        if let Some(prev) = spans.last() {
            assert!(prev.1 < times[0], "blocks overlap: {prev:?} and {times:?}");
        }
        spans.push((times[0], last_ms, b.len()));
    }
    (rows, spans)
}

/// Every read the store offers against the model: all, windows from around each block edge,
/// and the newest results across block edges.
pub(in crate::store) fn check(store: &Store, model: &Model) {
    assert_eq!(
        store.results(ID, 0, usize::MAX).unwrap(),
        model.window(0, usize::MAX)
    );
    let (_, spans) = layout(store, ID);
    let mut sinces = vec![0, u64::MAX];
    for (first, last, _) in spans.iter().take(6).chain(spans.last()) {
        let near = |t: u64| [t.saturating_sub(1), t, t.saturating_add(1)];
        sinces.extend(near(*first).into_iter().chain(near(*last)));
    }
    if let Some(t) = model.times().get(model.0.len() / 2) {
        sinces.push(*t);
    }
    for since in sinces {
        for limit in [1, 2, 63, 64, 65, 130, 1_000] {
            let got = store.results(ID, since, limit).unwrap();
            assert_eq!(
                got,
                model.window(since, limit),
                "since {since}, limit {limit}"
            );
        }
    }
    for limit in [0, 1, 2, 3, 63, 64, 65, 66, 127, 129, 500, usize::MAX] {
        assert_eq!(
            store.latest_results(ID, limit).unwrap(),
            model.latest(limit),
            "latest {limit}"
        );
    }
}

/// Runs the store's maintenance pass without deleting anything: every row is packed.
pub(in crate::store) fn pack_everything(store: &Store) {
    assert_eq!(store.prune_results(ID, 0).unwrap(), 0);
}

/// Prunes before `cutoff`: exactly the older results go, the count returned is theirs.
pub(in crate::store) fn prune_and_check(store: &Store, model: &mut Model, cutoff: u64) {
    let want = model.prune(cutoff);
    assert_eq!(
        store.prune_results(ID, cutoff).unwrap(),
        want,
        "cutoff {cutoff}"
    );
    assert_eq!(
        store.results(ID, 0, usize::MAX).unwrap(),
        model.window(0, usize::MAX)
    );
}

#[test]
fn appended_results_are_packed_and_read_back_exactly() {
    for (store, _dir) in engines() {
        let mut rng = Rng::new(1);
        let mut model = Model::default();
        append(
            &store,
            &mut model,
            &history(START_MS, 2_000, 1_000, &mut rng),
            50,
        );
        // A monitor whose id extends this one's stays apart.
        let mut other = varied(START_MS, "a", &mut rng);
        other.monitor_id = format!("{ID}0");
        store.append_results(std::slice::from_ref(&other)).unwrap();

        let (rows, spans) = layout(&store, ID);
        assert!(rows < 2 * BLOCK_RESULTS, "{rows} rows left unpacked");
        assert!(spans.len() >= 25, "{} blocks", spans.len());
        check(&store, &model);
        assert_eq!(
            store.results(&other.monitor_id, 0, 10).unwrap(),
            [other.clone()]
        );

        pack_everything(&store);
        let (rows, spans) = layout(&store, ID);
        assert_eq!(rows, 0);
        let full = spans.iter().filter(|s| s.2 == BLOCK_RESULTS).count();
        assert!(
            full + 1 >= spans.len(),
            "all blocks but the last are full: {spans:?}"
        );
        check(&store, &model);
        assert_eq!(store.corrupt_records(), 0);
    }
}

#[test]
fn late_repeated_and_out_of_order_results_merge_into_blocks() {
    for (store, _dir) in engines() {
        let mut rng = Rng::new(2);
        let mut model = Model::default();
        // Two stretches an hour apart: a gap between blocks.
        append(
            &store,
            &mut model,
            &history(START_MS, 600, 1_000, &mut rng),
            100,
        );
        let later = START_MS + 3_600_000;
        append(
            &store,
            &mut model,
            &history(later, 600, 1_000, &mut rng),
            100,
        );
        pack_everything(&store);
        check(&store, &model);

        // A repeat delivery of packed results with other contents: the last write wins.
        let repeats: Vec<ProbeResult> = model
            .0
            .values()
            .step_by(7)
            .map(|r| ProbeResult {
                latency_ms: r.latency_ms + 1_000,
                ..r.clone()
            })
            .collect();
        append(&store, &mut model, &repeats, 40);
        // Late results of another node inside packed blocks, in the gap, before everything
        // and one far after, out of order.
        let mut late = Vec::new();
        for i in (0..600).rev().step_by(3) {
            late.push(varied(START_MS + i * 1_000 + 500, "late", &mut rng));
        }
        for i in 0..300 {
            late.push(varied(START_MS + 700_000 + i * 5_000, "late", &mut rng));
        }
        for i in 0..50 {
            late.push(varied(START_MS - 1_000_000 + i, "late", &mut rng));
        }
        late.push(varied(later + 10_000_000, "late", &mut rng));
        append(&store, &mut model, &late, 77);
        check(&store, &model);

        pack_everything(&store);
        let (rows, spans) = layout(&store, ID);
        assert_eq!(rows, 0);
        assert!(spans.iter().all(|s| s.2 <= BLOCK_MAX_RESULTS), "{spans:?}");
        check(&store, &model);
    }
}

#[test]
fn latest_results_cross_block_boundaries() {
    for (store, _dir) in engines() {
        let mut rng = Rng::new(3);
        let mut model = Model::default();
        append(
            &store,
            &mut model,
            &history(START_MS, 300, 1_000, &mut rng),
            300,
        );
        pack_everything(&store);
        // A few rows after the last block, and one inside it.
        append(
            &store,
            &mut model,
            &history(START_MS + 400_000, 5, 1_000, &mut rng),
            5,
        );
        let inside = varied(START_MS + 299_000 - 500, "c", &mut rng);
        append(&store, &mut model, &[inside], 1);
        for limit in 1..=320 {
            assert_eq!(
                store.latest_results(ID, limit).unwrap(),
                model.latest(limit),
                "{limit}"
            );
        }
        assert_eq!(store.latest_results("nothing", 1).unwrap(), []);
    }
}

#[test]
fn pruning_is_exact_across_blocks() {
    for (store, _dir) in engines() {
        let mut rng = Rng::new(4);
        let mut model = Model::default();
        append(
            &store,
            &mut model,
            &history(START_MS, 1_000, 1_000, &mut rng),
            100,
        );
        pack_everything(&store);
        let (_, spans) = layout(&store, ID);
        let cutoffs = [
            START_MS,
            spans[1].0 + 10_000,
            spans[3].0,
            spans[4].1,
            spans[5].1 + 1,
            spans[8].0 + 1,
        ];
        for cutoff in cutoffs {
            // Some rows waiting to be packed, on both sides of the cutoff.
            let rows = [
                varied(cutoff - 1, "r", &mut rng),
                varied(cutoff, "r", &mut rng),
            ];
            append(&store, &mut model, &rows, 2);
            prune_and_check(&store, &mut model, cutoff);
            check(&store, &model);
            assert_eq!(
                layout(&store, ID).0,
                0,
                "the prune pass packs the rows left"
            );
        }
        let rest = model.0.len();
        assert_eq!(store.prune_results(ID, u64::MAX).unwrap(), rest);
        assert_eq!(layout(&store, ID), (0, Vec::new()));
        assert!(store.results(ID, 0, 10).unwrap().is_empty());
    }
}

#[test]
fn rows_of_the_previous_format_are_packed_by_the_prune_pass() {
    for (store, _dir) in engines() {
        // As the build before blocks left them: one row per result, nothing packed.
        let mut rng = Rng::new(5);
        let mut model = Model::default();
        let old = history(START_MS, 3_000, 60_000, &mut rng);
        let writes: Vec<Write> = old
            .iter()
            .map(|r| {
                let key = keys::result_key(ID, r.at_ms, &r.node);
                (key, Some(encode_record(&ResultBodyRef::from(r))))
            })
            .collect();
        store.kv.apply(Tree::Results, writes).unwrap();
        model.append(&old);
        check(&store, &model);

        // One bounded step first.
        let step = store.pack_step(ID, keys::result_range(ID, 0).0).unwrap();
        assert_eq!(step.packed, PACK_STEP_ROWS);
        assert!(step.next.is_some());
        assert_eq!(layout(&store, ID).0, 3_000 - PACK_STEP_ROWS);
        check(&store, &model);

        assert_eq!(store.prune_results(ID, 0).unwrap(), 0);
        assert_eq!(layout(&store, ID).0, 0, "the prune pass packs them");
        check(&store, &model);
    }
}

#[test]
fn an_append_packs_about_as_many_rows_as_it_wrote() {
    let store = Store::in_memory();
    let mut rng = Rng::new(6);
    let monitors: Vec<String> = (0..PACKS_PER_APPEND * 2 + 5)
        .map(|i| format!("m{i}"))
        .collect();
    let mut batch = Vec::new();
    for id in &monitors {
        for r in history(START_MS, u64::from(PACK_AFTER_RESULTS), 1_000, &mut rng) {
            batch.push(ProbeResult {
                monitor_id: id.clone(),
                ..r
            });
        }
    }
    let packed = |store: &Store| {
        monitors
            .iter()
            .filter(|id| !layout(store, id).1.is_empty())
            .count()
    };
    // Every monitor is due; one append packs at most PACKS_PER_APPEND of them.
    store.append_results(&batch).unwrap();
    assert_eq!(packed(&store), PACKS_PER_APPEND);
    // A one-result append packs one; a 640-result append ten.
    store.append_results(&[result_of("x")]).unwrap();
    assert_eq!(packed(&store), PACKS_PER_APPEND + 1);
    let ten: Vec<ProbeResult> = (0..640).map(|t| result_at("x", START_MS + t)).collect();
    store.append_results(&ten).unwrap();
    assert_eq!(packed(&store), PACKS_PER_APPEND + 11);
    let mut appends = 0;
    while packed(&store) < monitors.len() {
        store
            .append_results(&[result_at("y", START_MS + appends)])
            .unwrap();
        appends += 1;
    }
    assert_eq!(appends as usize, monitors.len() - PACKS_PER_APPEND - 11);
    for id in &monitors {
        assert_eq!(
            store.results(id, 0, usize::MAX).unwrap().len(),
            PACK_AFTER_RESULTS as usize
        );
    }
}

#[test]
fn monitors_started_together_fall_due_apart() {
    let counts: std::collections::HashSet<u32> = (0..1_000)
        .map(|i| first_count(&format!("m-{i:016x}")))
        .collect();
    assert!(counts.iter().all(|c| *c < PACK_AFTER_RESULTS));
    assert!(counts.len() > 50, "{} distinct first counts", counts.len());
    assert_eq!(first_count("m-1"), first_count("m-1"));
}

fn result_at(id: &str, at_ms: u64) -> ProbeResult {
    ProbeResult {
        monitor_id: id.into(),
        ..varied(at_ms, "a", &mut Rng::new(at_ms))
    }
}

fn result_of(id: &str) -> ProbeResult {
    ProbeResult {
        monitor_id: id.into(),
        ..varied(START_MS, "a", &mut Rng::new(0))
    }
}

#[test]
fn unreadable_blocks_are_skipped_and_kept() {
    for (store, _dir) in engines() {
        let mut rng = Rng::new(7);
        let mut model = Model::default();
        append(
            &store,
            &mut model,
            &history(START_MS, 200, 1_000, &mut rng),
            200,
        );
        pack_everything(&store);
        // A corrupt block and one a newer build wrote, after the packed ones.
        let corrupt_key = keys::block_key(ID, START_MS + 300_000);
        let future_key = keys::block_key(ID, START_MS + 400_000);
        let future = vec![RECORD_VERSION + 1, 9, 9, 9];
        store
            .kv
            .apply(
                Tree::Results,
                vec![
                    (corrupt_key.clone(), Some(vec![RECORD_VERSION, 0xff])),
                    (future_key.clone(), Some(future.clone())),
                ],
            )
            .unwrap();
        check(&store, &model);
        assert!(store.corrupt_records() > 0, "the corrupt block is counted");

        // Rows that may belong inside them stay rows; later ones are packed.
        let around = [
            varied(START_MS + 250_000, "a", &mut rng),
            varied(START_MS + 350_000, "a", &mut rng),
            varied(START_MS + 450_000, "a", &mut rng),
        ];
        append(&store, &mut model, &around, 3);
        pack_everything(&store);
        assert_eq!(
            layout(&store, ID).0,
            2,
            "the rows up to the unreadable blocks"
        );
        check(&store, &model);

        let corrupt_before = store.corrupt_records();
        store.prune_results(ID, START_MS + 410_000).unwrap();
        model.prune(START_MS + 410_000);
        assert_eq!(
            store.kv.get(Tree::Results, &corrupt_key).unwrap(),
            None,
            "expired"
        );
        assert_eq!(
            store.kv.get(Tree::Results, &future_key).unwrap(),
            Some(future.clone())
        );
        check(&store, &model);
        assert_eq!(
            store.corrupt_records(),
            corrupt_before,
            "a newer block is not counted"
        );
        store.prune_results(ID, u64::MAX).unwrap();
        assert_eq!(
            store.kv.get(Tree::Results, &future_key).unwrap(),
            Some(future)
        );
    }
}

#[test]
fn extreme_times_and_the_empty_id() {
    for (store, _dir) in engines() {
        let mut rng = Rng::new(8);
        let mut model = Model::default();
        let mut rs = vec![varied(0, "a", &mut rng), varied(1, "b", &mut rng)];
        rs.extend(history(START_MS, 150, 1_000, &mut rng));
        rs.extend([
            varied(u64::MAX - 1, "a", &mut rng),
            varied(u64::MAX, "a", &mut rng),
        ]);
        append(&store, &mut model, &rs, 50);
        pack_everything(&store);
        assert_eq!(layout(&store, ID).0, 0);
        check(&store, &model);
        assert_eq!(store.prune_results(ID, u64::MAX).unwrap(), model.0.len());
        assert_eq!(layout(&store, ID), (0, Vec::new()));

        // No monitor has the empty id: nothing is stored under it, nothing is read.
        let nameless = ProbeResult {
            monitor_id: String::new(),
            ..varied(START_MS, "a", &mut rng)
        };
        store.append_results(&[nameless]).unwrap();
        assert!(store.kv.scan(Tree::Results).unwrap().is_empty());
        assert!(store.results("", 0, 10).unwrap().is_empty());
        assert!(store.latest_results("", 10).unwrap().is_empty());
        assert_eq!(store.prune_results("", u64::MAX).unwrap(), 0);
    }
}
