//! Migrations at open: version 1 records come back as version 2, an interrupted migration
//! finishes, and records of a newer version survive everything. Run against both engines.

use std::sync::Arc;

use ringwatch_proto::{
    DEFAULT_METHOD, ErrorKind, Monitor, MonitorState, ProbeResult, RECORD_VERSION, Rev, Status,
    StatusRange, Transition, encode_as, encode_record,
};

use super::v1::{
    ErrorKindV1, MonitorStateV1, MonitorV1, ResultBodyV1, RevV1, StatusRangeV1, StatusV1,
};
use super::*;
use crate::store::keys::{result_key, transition_key};
use crate::store::memory::MemoryKv;
use crate::store::sled_kv::SledKv;
use crate::store::tests::FailingKv;
use crate::store::{Store, Write};

/// A version the tests pretend a later build writes.
const FUTURE: u8 = RECORD_VERSION + 1;

fn engines() -> Vec<(Arc<dyn Kv>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sled: Arc<dyn Kv> = Arc::new(SledKv::open(dir.path(), 16 << 20).unwrap());
    vec![(Arc::new(MemoryKv::default()), None), (sled, Some(dir))]
}

fn put(kv: &dyn Kv, tree: Tree, key: &[u8], value: Vec<u8>) {
    kv.apply(tree, vec![(key.to_vec(), Some(value))]).unwrap();
}

fn v1_monitor(id: &str, deleted: bool) -> MonitorV1 {
    MonitorV1 {
        id: id.into(),
        url: format!("https://{id}.example/"),
        name: format!("site {id}"),
        interval_secs: 15,
        timeout_ms: 4_000,
        active: id != "paused",
        failure_threshold: 3,
        recovery_threshold: 2,
        expect_status: vec![StatusRangeV1 { from: 200, to: 204 }],
        expect_body_contains: Some("welcome".into()),
        created_ms: 1_600_000_000_000,
        rev: RevV1 {
            hlc: 77 << 16,
            node: "old-node".into(),
        },
        deleted,
    }
}

fn v1_result(at_ms: u64) -> ResultBodyV1 {
    let failed = at_ms.is_multiple_of(3);
    ResultBodyV1 {
        at_ms,
        ok: !failed,
        status_code: (!at_ms.is_multiple_of(5)).then_some(200),
        latency_ms: at_ms % 100,
        error: failed.then(|| "status 503".into()),
        error_kind: failed.then_some(ErrorKindV1::BadStatus),
        node: format!("n{}", at_ms % 2),
    }
}

/// What a version 1 result becomes.
fn migrated_result(id: &str, r: &ResultBodyV1) -> ProbeResult {
    ProbeResult {
        monitor_id: id.into(),
        at_ms: r.at_ms,
        ok: r.ok,
        status_code: r.status_code,
        latency_ms: r.latency_ms,
        error: r.error.clone(),
        error_kind: r.error_kind.map(|_| ErrorKind::BadStatus),
        node: r.node.clone(),
        tls_days_left: None,
        zone: String::new(),
    }
}

/// Results per monitor in [`write_v1_store`]: more than one migration batch.
const V1_RESULTS: u64 = MIGRATION_BATCH_RECORDS as u64 * 2 + 17;

/// A store as a version 1 build left it: no marker, every record with version byte 1.
fn write_v1_store(kv: &dyn Kv) {
    for (id, deleted) in [("web", false), ("paused", false), ("gone", true)] {
        put(
            kv,
            Tree::Monitors,
            id.as_bytes(),
            encode_as(1, &v1_monitor(id, deleted)),
        );
    }
    let writes: Vec<Write> = (1..=V1_RESULTS)
        .map(|t| {
            let r = v1_result(t);
            (result_key("web", t, &r.node), Some(encode_as(1, &r)))
        })
        .collect();
    kv.apply(Tree::Results, writes).unwrap();
    let state = MonitorStateV1 {
        status: StatusV1::Down,
        failures: 4,
        successes: 0,
        since_ms: 1_234,
    };
    put(kv, Tree::States, b"web", encode_as(1, &state));
    put(kv, Tree::Meta, b"wm/n0", 99u64.to_be_bytes().to_vec());
}

/// Every record of [`write_v1_store`], read through today's store.
fn check_v1_store_migrated(store: &Store) {
    let monitors = store.monitors().unwrap();
    assert_eq!(monitors.len(), 3);
    for m in &monitors {
        let old = v1_monitor(&m.id, m.id == "gone");
        let mut want = Monitor::new(old.id.clone(), old.url.clone());
        want.name = old.name;
        want.interval_secs = 15;
        want.timeout_ms = 4_000;
        want.active = old.active;
        want.failure_threshold = 3;
        want.recovery_threshold = 2;
        want.expect_status = vec![StatusRange { from: 200, to: 204 }];
        want.expect_body_contains = Some("welcome".into());
        want.created_ms = old.created_ms;
        want.rev = Rev {
            hlc: 77 << 16,
            node: "old-node".into(),
        };
        want.deleted = old.deleted;
        assert_eq!(m, &want, "new fields take their defaults");
        assert_eq!(m.method, DEFAULT_METHOD);
    }
    let results = store.results("web", 0, usize::MAX).unwrap();
    let want: Vec<_> = (1..=V1_RESULTS)
        .map(|t| migrated_result("web", &v1_result(t)))
        .collect();
    assert_eq!(results, want, "every result, field for field");
    let state = MonitorState {
        status: Status::Down,
        failures: 4,
        successes: 0,
        since_ms: 1_234,
        seq: 0,
    };
    assert_eq!(store.states().unwrap(), vec![("web".to_string(), state)]);
    assert_eq!(store.watermarks().unwrap(), vec![("n0".to_string(), 99)]);
    assert_eq!(store.corrupt_records(), 0);
}

fn marker(kv: &dyn Kv) -> Option<Vec<u8>> {
    kv.get(Tree::Meta, MARKER_KEY).unwrap()
}

#[test]
fn v1_records_are_migrated_at_open() {
    for (kv, _dir) in engines() {
        write_v1_store(kv.as_ref());
        let store = Store::with_engine(kv.clone()).unwrap();
        let report = store.open_report();
        assert_eq!(report.found_format, None);
        assert_eq!(report.migrated_records(), 3 + V1_RESULTS + 1);
        check_v1_store_migrated(&store);
        assert_eq!(marker(kv.as_ref()), Some(vec![RECORD_VERSION]));
        for tree in RECORD_TREES {
            for (_, v) in kv.scan(tree).unwrap() {
                assert_eq!(
                    v[0],
                    layout_since(tree),
                    "{} rewritten as far as its layout changed",
                    tree.name()
                );
            }
        }
        assert_eq!(kv.scan(Tree::Monitors).unwrap()[0].1[0], RECORD_VERSION);
        // A second open has nothing left to do.
        let again = Store::with_engine(kv).unwrap();
        assert!(!again.open_report().walked);
        check_v1_store_migrated(&again);
    }
}

#[test]
fn a_migration_cut_short_finishes_on_the_next_open() {
    // Crash after: the in-progress marker, the monitors page, the first results page; and
    // after every page of results but before the final marker.
    for ok_applies in [1, 2, 3, 5, 12] {
        for (kv, _dir) in engines() {
            write_v1_store(kv.as_ref());
            // Every write after the first `ok_applies` fails, like a crash would.
            let crashing = Arc::new(FailingKv::new(kv.clone()));
            crashing.arm(ok_applies, usize::MAX);
            assert!(
                Store::with_engine(crashing).is_err(),
                "crash at {ok_applies}"
            );
            assert_ne!(marker(kv.as_ref()), Some(vec![RECORD_VERSION]));
            let store = Store::with_engine(kv.clone()).unwrap();
            assert!(store.open_report().walked);
            check_v1_store_migrated(&store);
        }
    }
}

/// Raw bytes of a record a later build wrote: its version, then a body this build cannot read.
fn future_record(tag: u8) -> Vec<u8> {
    vec![FUTURE, 0xde, 0xad, tag]
}

fn current_result(at_ms: u64) -> ProbeResult {
    ProbeResult {
        monitor_id: "a".into(),
        at_ms,
        ok: true,
        status_code: Some(200),
        latency_ms: 1,
        error: None,
        error_kind: None,
        node: "n1".into(),
        tls_days_left: None,
        zone: String::new(),
    }
}

/// Every future record [`future_records_survive_open_prune_and_reopen`] writes, as it wrote it.
fn future_rows() -> Vec<(Tree, Vec<u8>, Vec<u8>)> {
    vec![
        (Tree::Monitors, b"new".to_vec(), future_record(1)),
        (Tree::Results, result_key("a", 5, "n9"), future_record(2)),
        (Tree::Results, result_key("a", 6, "n9"), future_record(3)),
        (Tree::States, b"a".to_vec(), future_record(4)),
        (Tree::Transitions, transition_key("a", 1), future_record(5)),
        (Tree::Definitions, b"widget\0w".to_vec(), future_record(6)),
        (
            Tree::Definitions,
            b"token\0t-0123456789abcdef".to_vec(),
            future_record(8),
        ),
        (Tree::Rollups, future_rollup_key(), future_record(7)),
    ]
}

/// A rollup block key of monitor `a`: hours, the block at 0, node `n9`.
fn future_rollup_key() -> Vec<u8> {
    let mut k = crate::store::result_prefix("a");
    k.push(b'h');
    k.extend_from_slice(&0u64.to_be_bytes());
    k.extend_from_slice(b"n9");
    k
}

#[test]
fn future_records_survive_open_prune_and_reopen() {
    for (kv, _dir) in engines() {
        let store = Store::with_engine(kv.clone()).unwrap();
        store
            .append_results(&[current_result(4), current_result(7)])
            .unwrap();
        store
            .put_monitor(&Monitor::new("a".into(), "http://a/".into()))
            .unwrap();
        for (tree, key, value) in future_rows() {
            put(kv.as_ref(), tree, &key, value);
        }
        // A later build ran on this store and left its marker.
        put(kv.as_ref(), Tree::Meta, MARKER_KEY, vec![FUTURE]);

        let store = Store::with_engine(kv.clone()).unwrap();
        let report = store.open_report().clone();
        assert_eq!(report.found_format, Some(FUTURE));
        assert!(report.walked);
        let future: Vec<_> = report
            .trees
            .iter()
            .map(|(t, c)| (t.name(), c.future))
            .collect();
        assert_eq!(
            future,
            [
                ("monitors", 1),
                ("results", 2),
                ("states", 1),
                ("notifiers", 0),
                ("transitions", 1),
                ("deliveries", 0),
                ("definitions", 2),
                ("rollups", 1)
            ]
        );
        assert_eq!(store.future_records(), 8);
        assert_eq!(
            store.corrupt_records(),
            8,
            "reported with the unreadable records"
        );
        assert_eq!(marker(kv.as_ref()), Some(vec![RECORD_VERSION]));

        // Reads skip them, and do not count them again.
        assert_eq!(store.monitors().unwrap().len(), 1);
        let at: Vec<u64> = store
            .results("a", 0, 10)
            .unwrap()
            .iter()
            .map(|r| r.at_ms)
            .collect();
        assert_eq!(at, [4, 7]);
        assert!(store.states().unwrap().is_empty());
        assert!(store.transitions("a").unwrap().is_empty());
        let hours = crate::domain::rollup::Resolution::Hour;
        assert!(store.rollups("a", hours, 0, u64::MAX).unwrap().is_empty());
        assert_eq!(store.corrupt_records(), 8);
        assert_eq!(store.prune_rollups("a", hours, u64::MAX).unwrap(), 0);
        let tokens: crate::state::Table<ringwatch_proto::ApiToken> =
            crate::state::Table::load(store.clone(), "n1").unwrap();
        assert!(tokens.is_empty(), "a token of a newer build is skipped");

        // Pruning and deleting pass them over.
        assert_eq!(store.prune_results("a", u64::MAX).unwrap(), 2);
        store.delete_state("a").unwrap();
        let rival = Transition {
            monitor_id: "a".into(),
            name: "a".into(),
            url: "http://a/".into(),
            seq: 1,
            from: Status::Up,
            to: Status::Down,
            at_ms: 9,
            reason: "test".into(),
            node: "n1".into(),
            confirmed_by: None,
            last_result: None,
            channels: Vec::new(),
            zones_down: Vec::new(),
            zones_reachable: 0,
        };
        assert!(
            store.put_transitions(vec![rival]).unwrap().is_empty(),
            "first copy kept"
        );

        // A later open trusts the marker and still reports them.
        let store = Store::with_engine(kv.clone()).unwrap();
        assert!(!store.open_report().walked);
        assert_eq!(store.future_records(), 8);
        for (tree, key, value) in future_rows() {
            assert_eq!(kv.get(tree, &key).unwrap(), Some(value), "{}", tree.name());
        }
        assert!(store.results("a", 0, 10).unwrap().is_empty());
    }
}

/// A version 2 monitor as builds before user-marked secrets wrote it.
fn v2_monitor(id: &str) -> super::v2::MonitorV2 {
    super::v2::MonitorV2 {
        id: id.into(),
        url: format!("https://{id}.example/login"),
        name: format!("site {id}"),
        interval_secs: 20,
        timeout_ms: 3_000,
        active: true,
        failure_threshold: 2,
        recovery_threshold: 1,
        expect_status: vec![StatusRange { from: 200, to: 299 }],
        expect_body_contains: Some("welcome".into()),
        expect_body_not_contains: Some("error".into()),
        max_response_ms: Some(900),
        method: "POST".into(),
        headers: vec![
            ("Authorization".into(), "Bearer s1".into()),
            ("X-Tenant".into(), "acme".into()),
        ],
        body: Some("{\"user\":\"probe\"}".into()),
        tls_min_days: Some(10),
        tls_skip_verify: false,
        notifiers: Some(vec!["n-1".into()]),
        created_ms: 1_700_000_000_000,
        rev: Rev {
            hlc: 88 << 16,
            node: "n2".into(),
        },
        deleted: false,
    }
}

/// `r` as a result row of record versions 2 and 3 (no zone).
fn v3_row(r: &ProbeResult) -> crate::store::records::ResultBodyV3 {
    crate::store::records::ResultBodyV3 {
        at_ms: r.at_ms,
        ok: r.ok,
        status_code: r.status_code,
        latency_ms: r.latency_ms,
        error: r.error.clone(),
        error_kind: r.error_kind,
        node: r.node.clone(),
        tls_days_left: r.tls_days_left,
    }
}

#[test]
fn a_version_2_store_rewrites_its_monitors_and_nothing_else() {
    for (kv, _dir) in engines() {
        // A store as the last version 2 build left it: marker 2, every record version 2.
        put(kv.as_ref(), Tree::Meta, MARKER_KEY, vec![2]);
        let old = v2_monitor("web");
        put(kv.as_ref(), Tree::Monitors, b"web", encode_as(2, &old));
        let result = current_result(5_000);
        let row = encode_as(2, &v3_row(&result));
        let row_key = result_key(&result.monitor_id, 5_000, &result.node);
        put(kv.as_ref(), Tree::Results, &row_key, row.clone());
        let state = MonitorState {
            status: Status::Up,
            failures: 0,
            successes: 3,
            since_ms: 4_000,
            seq: 2,
        };
        put(kv.as_ref(), Tree::States, b"web", encode_as(2, &state));

        let store = Store::with_engine(kv.clone()).unwrap();
        let report = store.open_report();
        assert_eq!(report.found_format, Some(2));
        assert_eq!(
            report.walked_trees,
            [Tree::Monitors, Tree::Transitions],
            "only monitors and transitions changed"
        );
        assert_eq!(report.migrated_records(), 1);
        let m = &store.monitors().unwrap()[0];
        let mut want = Monitor::new(old.id.clone(), old.url.clone());
        want.name = old.name.clone();
        want.interval_secs = 20;
        want.timeout_ms = 3_000;
        want.expect_status = old.expect_status.clone();
        want.expect_body_contains = old.expect_body_contains.clone();
        want.expect_body_not_contains = old.expect_body_not_contains.clone();
        want.max_response_ms = Some(900);
        want.method = "POST".into();
        want.headers = old.headers.clone();
        want.body = old.body.clone();
        want.tls_min_days = Some(10);
        want.notifiers = old.notifiers.clone();
        want.created_ms = old.created_ms;
        want.rev = old.rev.clone();
        assert_eq!(m, &want, "every field kept; nothing newly marked secret");
        // The rest reads as it is, and is not rewritten.
        assert_eq!(kv.get(Tree::Results, &row_key).unwrap(), Some(row));
        assert_eq!(store.results(&result.monitor_id, 0, 10).unwrap(), [result]);
        assert_eq!(store.states().unwrap(), [("web".to_owned(), state)]);
        assert_eq!(
            kv.get(Tree::Monitors, b"web").unwrap().unwrap()[0],
            RECORD_VERSION
        );
        assert_eq!(marker(kv.as_ref()), Some(vec![RECORD_VERSION]));
        assert_eq!(store.corrupt_records(), 0);
        let again = Store::with_engine(kv).unwrap();
        assert!(!again.open_report().walked);
        assert_eq!(again.monitors().unwrap(), std::slice::from_ref(m));
    }
}

#[test]
fn after_a_rollback_this_builds_records_are_not_counted_as_newer() {
    for (kv, _dir) in engines() {
        // This build wrote a result; a version 2 build then ran (rollback), counted it as a
        // newer record and left its marker.
        let store = Store::with_engine(kv.clone()).unwrap();
        store.append_results(&[current_result(4)]).unwrap();
        drop(store);
        put(kv.as_ref(), Tree::Meta, MARKER_KEY, vec![2]);
        put(
            kv.as_ref(),
            Tree::Meta,
            b"future/results",
            1u64.to_be_bytes().to_vec(),
        );

        let store = Store::with_engine(kv.clone()).unwrap();
        let report = store.open_report();
        assert_eq!(
            report.walked_trees,
            [Tree::Monitors, Tree::Results, Tree::Transitions]
        );
        assert_eq!(
            report.future_records(),
            0,
            "this build's result is current here"
        );
        assert_eq!(store.results("a", 0, 10).unwrap(), [current_result(4)]);
        let again = Store::with_engine(kv).unwrap();
        assert_eq!(again.open_report().future_records(), 0);
    }
}

#[test]
fn records_no_step_can_read_are_kept_and_counted() {
    for (kv, _dir) in engines() {
        // Version 1 had no transitions tree; an empty value has no version at all.
        put(kv.as_ref(), Tree::Transitions, b"t", encode_as(1, &7u64));
        put(kv.as_ref(), Tree::Monitors, b"empty", Vec::new());
        put(kv.as_ref(), Tree::Monitors, b"bad", vec![1, 0xff, 0xff]);
        let ok = Monitor::new("ok".into(), "http://ok/".into());
        put(kv.as_ref(), Tree::Monitors, b"ok", encode_record(&ok));
        let store = Store::with_engine(kv.clone()).unwrap();
        let unreadable: u64 = store
            .open_report()
            .trees
            .iter()
            .map(|(_, c)| c.unreadable)
            .sum();
        assert_eq!(unreadable, 3);
        assert_eq!(store.monitors().unwrap(), vec![ok]);
        assert_eq!(
            kv.get(Tree::Monitors, b"bad").unwrap(),
            Some(vec![1, 0xff, 0xff])
        );
        assert_eq!(kv.scan(Tree::Transitions).unwrap().len(), 1);
    }
}

#[test]
fn a_version_3_store_rewrites_monitors_and_transitions_and_reads_results_without_zones() {
    use super::v3::{MonitorV3, ProbeResultV3, TransitionV3};
    for (kv, _dir) in engines() {
        // A store as the last version 3 build left it: marker 3, a monitor, a transition with
        // its last result, a result row; all version 3.
        put(kv.as_ref(), Tree::Meta, MARKER_KEY, vec![3]);
        let v2 = v2_monitor("web");
        let old = MonitorV3 {
            id: v2.id,
            url: v2.url,
            name: v2.name,
            interval_secs: v2.interval_secs,
            timeout_ms: v2.timeout_ms,
            active: v2.active,
            failure_threshold: v2.failure_threshold,
            recovery_threshold: v2.recovery_threshold,
            expect_status: v2.expect_status,
            expect_body_contains: v2.expect_body_contains,
            expect_body_not_contains: v2.expect_body_not_contains,
            max_response_ms: v2.max_response_ms,
            method: v2.method,
            headers: v2.headers,
            secret_headers: vec!["X-Tenant".into()],
            body: v2.body,
            secret_body: true,
            tls_min_days: v2.tls_min_days,
            tls_skip_verify: v2.tls_skip_verify,
            notifiers: v2.notifiers,
            created_ms: v2.created_ms,
            rev: v2.rev,
            deleted: false,
        };
        put(kv.as_ref(), Tree::Monitors, b"web", encode_as(3, &old));
        let result = current_result(5_000);
        let t = TransitionV3 {
            monitor_id: "web".into(),
            name: "web".into(),
            url: "http://web/".into(),
            seq: 1,
            from: Status::Up,
            to: Status::Down,
            at_ms: 5_000,
            reason: "unexpected status 503".into(),
            node: "n1".into(),
            confirmed_by: Some("n2".into()),
            last_result: Some(ProbeResultV3 {
                monitor_id: "web".into(),
                at_ms: 5_000,
                ok: false,
                status_code: Some(503),
                latency_ms: 3,
                error: Some("unexpected status 503".into()),
                error_kind: Some(ErrorKind::BadStatus),
                node: "n1".into(),
                tls_days_left: None,
            }),
            channels: vec!["hook".into()],
        };
        put(
            kv.as_ref(),
            Tree::Transitions,
            &transition_key("web", 1),
            encode_as(3, &t),
        );
        let row_key = result_key(&result.monitor_id, 5_000, &result.node);
        put(
            kv.as_ref(),
            Tree::Results,
            &row_key,
            encode_as(3, &v3_row(&result)),
        );

        let store = Store::with_engine(kv.clone()).unwrap();
        let report = store.open_report();
        assert_eq!(report.found_format, Some(3));
        assert_eq!(report.walked_trees, [Tree::Monitors, Tree::Transitions]);
        assert_eq!(report.migrated_records(), 2);
        let m = &store.monitors().unwrap()[0];
        assert_eq!((m.zones.as_ref(), m.quorum), (None, None));
        assert_eq!(m.secret_headers, ["X-Tenant"]);
        assert!(m.secret_body);
        assert_eq!(m.headers, old.headers);
        let ts = store.transitions("web").unwrap();
        assert_eq!(ts.len(), 1);
        let got = &ts[0];
        assert_eq!((got.seq, got.to, got.at_ms), (1, Status::Down, 5_000));
        assert_eq!(got.reason, t.reason);
        assert_eq!(got.confirmed_by.as_deref(), Some("n2"));
        assert_eq!(got.channels, ["hook"]);
        assert!(got.zones_down.is_empty() && got.zones_reachable == 0);
        let last = got.last_result.as_ref().unwrap();
        assert_eq!((last.status_code, last.zone.as_str()), (Some(503), ""));
        // The version 3 row reads as it is, with no zone, and is not rewritten.
        assert_eq!(kv.get(Tree::Results, &row_key).unwrap().unwrap()[0], 3);
        assert_eq!(
            store.results("a", 0, 10).unwrap(),
            std::slice::from_ref(&result)
        );
        // A result of this build keeps its zone, in a row and once packed in a block.
        let mut zoned = current_result(6_000);
        zoned.zone = "eu".into();
        store.append_results(std::slice::from_ref(&zoned)).unwrap();
        assert_eq!(store.results("a", 0, 10).unwrap(), [result, zoned]);
        assert_eq!(store.corrupt_records(), 0);
        assert!(!Store::with_engine(kv).unwrap().open_report().walked);
    }
}

#[test]
fn a_version_4_store_rewrites_only_its_monitors_keeping_their_zones() {
    use super::v4::MonitorV4;
    for (kv, _dir) in engines() {
        // A store as the last version 4 build left it: marker 4, a zoned monitor, a
        // transition; all version 4.
        put(kv.as_ref(), Tree::Meta, MARKER_KEY, vec![4]);
        let v2 = v2_monitor("web");
        let old = MonitorV4 {
            id: v2.id,
            url: v2.url,
            name: v2.name,
            interval_secs: v2.interval_secs,
            timeout_ms: v2.timeout_ms,
            active: v2.active,
            failure_threshold: v2.failure_threshold,
            recovery_threshold: v2.recovery_threshold,
            expect_status: v2.expect_status,
            expect_body_contains: v2.expect_body_contains,
            expect_body_not_contains: v2.expect_body_not_contains,
            max_response_ms: v2.max_response_ms,
            method: v2.method,
            headers: v2.headers,
            secret_headers: vec!["X-Tenant".into()],
            body: v2.body,
            secret_body: true,
            tls_min_days: v2.tls_min_days,
            tls_skip_verify: v2.tls_skip_verify,
            notifiers: v2.notifiers,
            zones: Some(ringwatch_proto::Zones::Only(vec!["eu".into(), "us".into()])),
            quorum: Some(1),
            created_ms: v2.created_ms,
            rev: v2.rev,
            deleted: false,
        };
        put(kv.as_ref(), Tree::Monitors, b"web", encode_as(4, &old));
        let t = Transition {
            monitor_id: "web".into(),
            name: "web".into(),
            url: "http://web/".into(),
            seq: 1,
            from: Status::Up,
            to: Status::Down,
            at_ms: 5_000,
            reason: "down in zones eu".into(),
            node: "n1".into(),
            confirmed_by: None,
            last_result: Some(current_result(5_000)),
            channels: vec!["hook".into()],
            zones_down: vec!["eu".into()],
            zones_reachable: 2,
        };
        let key = transition_key("web", 1);
        put(kv.as_ref(), Tree::Transitions, &key, encode_as(4, &t));

        let store = Store::with_engine(kv.clone()).unwrap();
        let report = store.open_report();
        assert_eq!(report.found_format, Some(4));
        assert_eq!(report.walked_trees, [Tree::Monitors]);
        assert_eq!(report.migrated_records(), 1);
        let m = &store.monitors().unwrap()[0];
        assert_eq!((&m.zones, m.quorum), (&old.zones, Some(1)));
        assert_eq!((m.public_badges, m.repeat_every_secs), (false, None));
        assert_eq!(m.secret_headers, ["X-Tenant"]);
        assert_eq!(kv.get(Tree::Monitors, b"web").unwrap().unwrap()[0], 5);
        // The transition's layout did not change: read as it is, not rewritten.
        assert_eq!(kv.get(Tree::Transitions, &key).unwrap().unwrap()[0], 4);
        assert_eq!(store.transitions("web").unwrap(), [t]);
        assert_eq!(store.corrupt_records(), 0);
        assert!(!Store::with_engine(kv).unwrap().open_report().walked);
    }
}
