//! The results store under stress: a failed batch at every point, reads racing packing,
//! random operations against the model, and what a week of results takes.

use std::sync::Arc;

use ringwatch_proto::{RECORD_VERSION, encode_as};

use crate::store::compact::tests::{
    ID, Model, START_MS, append, check, history, layout, pack_everything, prune_and_check, varied,
};
use crate::store::keys;
use crate::store::memory::MemoryKv;
use crate::store::records::ResultBodyRef;
use crate::store::tests::{FailingKv, Rng, engines};
use crate::store::{Store, Tree};

/// Appends, late results and a prune pass, on a store whose `fail_at`-th batch fails; returns
/// the model of what must be stored and how many batches the run made.
fn run_failing_at(fail_at: usize) -> (Arc<MemoryKv>, Model, usize) {
    let inner = Arc::new(MemoryKv::default());
    let kv = Arc::new(FailingKv::new(inner.clone()));
    let store = Store::with_engine(kv.clone()).unwrap();
    kv.arm(fail_at, fail_at.saturating_add(1));
    let mut rng = Rng::new(9);
    let mut model = Model::default();
    let mut late = history(START_MS, 100, 2_000, &mut rng);
    for r in &mut late {
        r.at_ms += 1_000;
        r.node = "late".into();
    }
    let batches = [history(START_MS, 100, 2_000, &mut rng), late];
    for rs in batches.iter().flat_map(|b| b.chunks(30)) {
        // A failed append stores nothing (the recorder counts them as dropped).
        if store.append_results(rs).is_ok() {
            model.append(rs);
        }
    }
    let _ = store.prune_results(ID, 0);
    (inner, model, kv.applies())
}

#[test]
fn a_failed_batch_loses_nothing() {
    let (_, _, batches) = run_failing_at(usize::MAX);
    assert!(batches > 10, "{batches} batches");
    for fail_at in 0..batches {
        let (inner, model, _) = run_failing_at(fail_at);
        // What a restart finds, and what the next pass makes of it.
        let store = Store::with_engine(inner).unwrap();
        check(&store, &model);
        pack_everything(&store);
        assert_eq!(layout(&store, ID).0, 0);
        check(&store, &model);
    }
}

#[test]
fn reads_during_packing_see_every_result_once() {
    for (store, _dir) in engines() {
        let mut rng = Rng::new(10);
        let all = history(START_MS, 3_000, 1_000, &mut rng);
        let writer = {
            let store = store.clone();
            let all = all.clone();
            std::thread::spawn(move || {
                for part in all.chunks(10) {
                    store.append_results(part).unwrap();
                }
                store.prune_results(ID, 0).unwrap();
            })
        };
        let mut seen = 0;
        while !writer.is_finished() {
            let got = store.results(ID, 0, usize::MAX).unwrap();
            assert!(got.len() >= seen, "a result went missing");
            assert_eq!(got[..], all[..got.len()], "every result once, in order");
            seen = got.len();
            let newest = store.latest_results(ID, 1).unwrap();
            if let (Some(n), Some(g)) = (newest.first(), got.last()) {
                assert!(n.at_ms >= g.at_ms, "the newest result is at least as new");
            }
        }
        writer.join().unwrap();
        assert_eq!(store.results(ID, 0, usize::MAX).unwrap(), all);
    }
}

#[test]
fn random_operations_match_the_model() {
    for seed in 0..12 {
        let store = Store::in_memory();
        let mut rng = Rng::new(100 + seed);
        let mut model = Model::default();
        let mut now = START_MS;
        for _ in 0..150 {
            match rng.below(10) {
                0..=5 => {
                    let n = 1 + rng.below(80);
                    let mut rs = Vec::new();
                    for _ in 0..n {
                        now += rng.below(3_000);
                        let at = match rng.below(10) {
                            0 => now.saturating_sub(rng.below(200_000)),
                            1 => now - now % 1_000,
                            _ => now,
                        };
                        let node = ["a", "b", "c"][rng.below(3) as usize];
                        rs.push(varied(at, node, &mut rng));
                    }
                    append(&store, &mut model, &rs, 1 + rng.below(40) as usize);
                }
                6 => {
                    let cutoff = now.saturating_sub(rng.below(300_000));
                    prune_and_check(&store, &mut model, cutoff);
                }
                7 => pack_everything(&store),
                _ => {
                    let since = now.saturating_sub(rng.below(400_000));
                    let limit = 1 + rng.below(300) as usize;
                    assert_eq!(
                        store.results(ID, since, limit).unwrap(),
                        model.window(since, limit)
                    );
                    assert_eq!(
                        store.latest_results(ID, limit).unwrap(),
                        model.latest(limit)
                    );
                }
            }
        }
        layout(&store, ID);
        check(&store, &model);
    }
}

/// What a week of a 60 s monitor takes in the tree (keys and values; the engine's own
/// overhead comes on top, see `scripts/bench --history`).
#[test]
fn a_week_of_results_takes_a_few_bytes_each() {
    let store = Store::in_memory();
    let mut rng = Rng::new(11);
    let mut model = Model::default();
    let week = history(START_MS, 7 * 24 * 60, 60_000, &mut rng);
    append(&store, &mut model, &week, 1);
    pack_everything(&store);
    let (from, to) = keys::result_range(ID, 0);
    let bytes: usize = store
        .kv
        .range(Tree::Results, &from, &to, false, usize::MAX)
        .unwrap()
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    let per_result = bytes as f64 / week.len() as f64;
    assert!(per_result < 8.0, "{per_result} B per result");
    check(&store, &model);
    // Rows as the previous build wrote them, for comparison.
    let row: usize = week
        .iter()
        .map(|r| {
            keys::result_key(ID, r.at_ms, &r.node).len()
                + encode_as(RECORD_VERSION, &ResultBodyRef::from(r)).len()
        })
        .sum();
    assert!(row as f64 / week.len() as f64 > 5.0 * per_result);
}
