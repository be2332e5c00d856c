use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng, rngs::StdRng};
use ringwatch_proto::{Monitor, Notifier, NotifierKind, PeerMsg, Rev};

use super::*;

/// Applies writes with the merge rule to a map, as every node does.
fn replay(writes: &[Monitor]) -> BTreeMap<String, Monitor> {
    let mut state: BTreeMap<String, Monitor> = BTreeMap::new();
    for w in writes {
        if supersedes(&w.rev, state.get(&w.id).map(|m| &m.rev)) {
            state.insert(w.id.clone(), w.clone());
        }
    }
    state
}

fn write(id: &str, hlc: u64, node: &str, interval: u64, deleted: bool) -> Monitor {
    let mut m = Monitor::new(id.into(), "http://x/".into());
    m.interval_secs = interval;
    m.deleted = deleted;
    m.rev = Rev {
        hlc,
        node: node.into(),
    };
    m
}

/// An HLC reading `ahead_ms` past this node's wall clock now.
fn hlc_at(ahead_ms: i64) -> u64 {
    ((now_ms() as i64 + ahead_ms) as u64) << 16
}

fn monitors() -> Table<Monitor> {
    Table::load(Store::in_memory(), "n1").unwrap()
}

#[test]
fn merge_is_commutative_and_idempotent() {
    let mut rng = StdRng::seed_from_u64(42);
    for _ in 0..200 {
        let writes: Vec<Monitor> = (0..30)
            .map(|_| {
                write(
                    ["a", "b", "c"][rng.random_range(0..3)],
                    rng.random_range(0..10),
                    ["n1", "n2", "n3"][rng.random_range(0..3)],
                    rng.random_range(1..100),
                    rng.random_bool(0.2),
                )
            })
            .collect();
        // Same revision means the same write everywhere: keep one body per revision.
        let mut canonical: BTreeMap<(String, Rev), Monitor> = BTreeMap::new();
        for w in &writes {
            canonical
                .entry((w.id.clone(), w.rev.clone()))
                .or_insert_with(|| w.clone());
        }
        let writes: Vec<Monitor> = canonical.into_values().collect();
        let expected = replay(&writes);
        for _ in 0..5 {
            let mut shuffled = writes.clone();
            shuffled.extend(
                writes
                    .iter()
                    .take(rng.random_range(0..writes.len()))
                    .cloned(),
            );
            shuffled.shuffle(&mut rng);
            assert_eq!(replay(&shuffled), expected);
            // The table, fed the same writes in batches of any size, ends the same.
            let table = monitors();
            for batch in shuffled.chunks(rng.random_range(1..8)) {
                table.merge(batch.to_vec(), &Hlc::default());
            }
            let held: BTreeMap<String, Monitor> = table
                .all()
                .into_iter()
                .map(|m| (m.id.clone(), (*m).clone()))
                .collect();
            assert_eq!(held, expected);
        }
    }
}

#[test]
fn concurrent_edit_and_delete_resolve_the_same_everywhere() {
    // n1 edits and n2 deletes at the same clock reading: the node name breaks the tie.
    let edit = write("a", 7, "n1", 5, false);
    let delete = write("a", 7, "n2", 30, true);
    assert!(replay(&[edit.clone(), delete.clone()])["a"].deleted);
    assert!(replay(&[delete.clone(), edit.clone()])["a"].deleted);
    // An older edit arriving after a delete cannot resurrect the monitor.
    let old_edit = write("a", 3, "n3", 9, false);
    assert!(replay(&[delete, old_edit])["a"].deleted);
}

#[test]
fn a_revision_far_in_the_future_is_refused_and_leaves_the_clock_alone() {
    let table = monitors();
    let hlc = Hlc::default();
    let far = write(
        "far",
        hlc_at(MAX_FUTURE.as_millis() as i64 + 60_000),
        "n2",
        5,
        false,
    );
    let near = write("near", hlc_at(60_000), "n2", 5, false);
    let merged = table.merge(vec![far, near.clone()], &hlc);
    assert_eq!(merged.refused, 1);
    assert_eq!(merged.changed, vec![Arc::new(near.clone())]);
    assert!(table.get("far").is_none());
    // The clock followed the accepted revision only.
    let now = hlc.now();
    assert!(now > near.rev.hlc && now < hlc_at(MAX_FUTURE.as_millis() as i64));
}

#[test]
fn a_revision_that_would_overflow_the_clock_is_refused() {
    let table = monitors();
    let hlc = Hlc::default();
    for at in [u64::MAX, u64::MAX - 1] {
        let merged = table.merge(vec![write("x", at, "n2", 5, false)], &hlc);
        assert_eq!((merged.refused, merged.changed.len()), (1, 0));
    }
    assert!(
        check_rev(
            &Rev {
                hlc: u64::MAX,
                node: "n".into()
            },
            u64::MAX
        )
        .is_err()
    );
    assert!(table.is_empty());
    assert!(hlc.now() < hlc_at(1_000));
}

#[test]
fn invalid_definitions_are_dropped_and_counted_never_stored() {
    let store = Store::in_memory();
    let table: Table<Monitor> = Table::load(store.clone(), "n1").unwrap();
    let hlc = Hlc::default();
    let rev = hlc_at(0);
    let zero_interval = write("zero", rev, "n2", 0, false);
    let mut bad_url = write("url", rev, "n2", 5, false);
    bad_url.url = "ftp://x/".into();
    let bad_id = write("no spaces", rev, "n2", 5, false);
    let bad_node = write("node", rev, "n 2", 5, false);
    // A tombstone's body is never used: only its id and revision are checked.
    let tomb = write("tomb", rev, "n2", 0, true);
    let ok = write("ok", rev, "n2", 5, false);
    let merged = table.merge(
        vec![zero_interval, bad_url, bad_id, bad_node, tomb, ok],
        &hlc,
    );
    assert_eq!(merged.refused, 4);
    let ids: Vec<&str> = merged.changed.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["ok", "tomb"]);
    let stored: Vec<String> = store
        .monitors()
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(stored, ["ok", "tomb"]);

    let notifiers: Table<Notifier> = Table::load(store.clone(), "n1").unwrap();
    let notifier = |id: &str, url: &str| Notifier {
        id: id.into(),
        name: "ops".into(),
        kind: NotifierKind::Webhook { url: url.into() },
        rev: Rev {
            hlc: rev,
            node: "n2".into(),
        },
        deleted: false,
    };
    let merged = notifiers.merge(
        vec![
            notifier("bad", "ftp://x/"),
            notifier("good", "http://127.0.0.1:9/h"),
        ],
        &hlc,
    );
    assert_eq!((merged.refused, merged.changed.len()), (1, 1));
    assert_eq!(store.notifiers().unwrap().len(), 1);
}

#[test]
fn seeds_add_only_unknown_ids_and_any_edit_wins_over_them() {
    let store = Store::in_memory();
    let table: Table<Monitor> = Table::load(store.clone(), "n1").unwrap();
    let hlc = Hlc::default();
    let seed = write("s", 0, "", 5, false);
    assert_eq!(
        table.seed(vec![seed.clone(), seed.clone()]).unwrap().len(),
        1
    );
    let mut edited = seed.clone();
    edited.interval_secs = 60;
    table.put_one(edited, &hlc).unwrap();
    // Seeding again (the next start) changes nothing: the edit stays.
    assert!(table.seed(vec![seed.clone()]).unwrap().is_empty());
    assert_eq!(table.get("s").unwrap().interval_secs, 60);
    // A deleted seed is not brought back by the file.
    assert!(table.delete("s", &hlc).unwrap().is_some());
    assert!(table.seed(vec![seed]).unwrap().is_empty());
    assert!(table.get_live("s").is_none());
    // What the table wrote, a restart reads back.
    let reloaded: Table<Monitor> = Table::load(store, "n1").unwrap();
    assert_eq!(reloaded.all(), table.all());
}

#[test]
fn messages_of_other_kinds_are_handed_back() {
    let table = monitors();
    let hlc = Hlc::default();
    let notifiers = PeerMsg::Notifiers(Vec::new());
    assert_eq!(
        table.receive(notifiers.clone(), &hlc).unwrap_err(),
        notifiers
    );
    let other = PeerMsg::Records {
        kind: "widget".into(),
        records: Vec::new(),
    };
    assert_eq!(table.receive(other.clone(), &hlc).unwrap_err(), other);
    // The monitors' own kind name is accepted in the generic message too.
    let m = write("g", hlc_at(0), "n2", 5, false);
    let generic = PeerMsg::Records {
        kind: "monitor".into(),
        records: vec![ringwatch_proto::encode_record(&m), vec![2, 0xff]],
    };
    let merged = table.receive(generic, &hlc).unwrap();
    assert_eq!((merged.changed.len(), merged.refused), (1, 1));
}

#[test]
fn a_full_sync_is_split_into_frames() {
    let table = monitors();
    let ms: Vec<Monitor> = (0..5)
        .map(|i| write(&format!("m{i}"), 1, "n2", 5, false))
        .collect();
    table.seed(ms.clone()).unwrap();
    // Room for two of these monitors per message, not three.
    let one = ringwatch_proto::encoded_len(&ms[0]);
    let frames = table.sync_messages(2 * one + one / 2);
    let sizes: Vec<usize> = frames
        .iter()
        .map(|f| match f {
            PeerMsg::Definitions(ms) => ms.len(),
            other => panic!("monitors travel as Definitions, got {other:?}"),
        })
        .collect();
    assert_eq!(sizes, [2, 2, 1]);
}

#[test]
fn messages_stay_under_the_byte_budget_whatever_the_records_weigh() {
    let table = monitors();
    // 40 monitors of about 100 KiB each (a body under the definition cap): 4 MiB in all.
    let ms: Vec<Monitor> = (0..40)
        .map(|i| {
            let mut m = write(&format!("m{i:02}"), 1, "n2", 5, false);
            m.method = "POST".into();
            m.body = Some("x".repeat(60 * 1024));
            m.headers = vec![("X-Pad".into(), "y".repeat(4_000)); 1];
            m.expect_body_contains = Some("z".repeat(1_000));
            m
        })
        .collect();
    for m in &ms {
        crate::domain::spec::validate(m).unwrap();
    }
    let stored = table.seed(ms).unwrap();
    for frames in [
        Table::messages(&stored),
        table.sync_messages(MAX_MESSAGE_BYTES),
    ] {
        assert!(frames.len() >= 3, "{} frames", frames.len());
        let mut got = 0;
        for f in &frames {
            let len = ringwatch_proto::encoded_len(f);
            assert!(len <= MAX_MESSAGE_BYTES + 64, "a frame of {len} bytes");
            let PeerMsg::Definitions(ms) = f else {
                panic!("{f:?}")
            };
            got += ms.len();
        }
        assert_eq!(got, 40);
    }
}

#[test]
fn a_record_over_the_size_cap_from_a_peer_is_refused() {
    let (table, hlc) = (monitors(), Hlc::default());
    let mut big = write("big", hlc_at(0), "n2", 5, false);
    big.method = "POST".into();
    big.body = Some("x".repeat(MAX_RECORD_BYTES));
    let small = write("small", hlc_at(0), "n2", 5, false);
    let merged = table.merge(vec![big, small], &hlc);
    assert_eq!((merged.changed.len(), merged.refused), (1, 1));
    assert!(table.get("big").is_none());
}

#[test]
fn refusals_are_logged_once_per_period_with_the_count_since() {
    let table = monitors();
    assert_eq!(table.refusals_to_log(2, 1_000_000), Some(2));
    assert_eq!(table.refusals_to_log(3, 1_000_001), None);
    assert_eq!(table.refusals_to_log(1, 1_005_000), None);
    assert_eq!(
        table.refusals_to_log(1, 1_000_000 + REFUSAL_LOG_EVERY_MS),
        Some(5)
    );
}
