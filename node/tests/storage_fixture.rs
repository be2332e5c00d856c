//! A data directory written by the previous release opens with every record intact.
//!
//! `fixtures/v2-data/` is the sled directory of a single node of commit 2dfffca (record
//! version 2, no store format marker), and `fixtures/v2-data.json` what that node's HTTP API
//! showed just before it was stopped with SIGTERM (see `fixtures/README.md`). The test opens a
//! copy with today's `Store` and checks every monitor, notifier, result, state, transition and
//! delivery against it, then opens it once more to see the migration is not repeated.
//!
//! `fixtures/v2-blocks-data/` is the same for commit e1ae99a, the last build of record version
//! 2 (store marker 2, result blocks, API tokens, rollups, a monitor with secret headers and a
//! password in its URL): the build before version 3 changed the monitor layout. Its monitors
//! are rewritten, nothing else is, and its tokens and rollups are checked too.
//!
//! Its results are rows, one per result, which is also the layout of every build up to the
//! one that introduced result blocks: this fixture is that change's "previous build". The
//! test runs today's maintenance pass (which packs the rows into blocks) and finds every
//! result again, before and after a reopen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use ringwatch::domain::rollup::Resolution;
use ringwatch::domain::secret;
use ringwatch::store::{Store, Tree};
use ringwatch_proto::{
    ApiToken, Delivery, Monitor, MonitorState, NotifierKind, ProbeResult, RECORD_VERSION,
    StatusRange, Zones,
};
use serde_json::Value;

const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v2-data");
const MANIFEST: &str = include_str!("fixtures/v2-data.json");
const BLOCKS_FIXTURE_DIR: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v2-blocks-data");
const BLOCKS_MANIFEST: &str = include_str!("fixtures/v2-blocks-data.json");
const V3_FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v3-data");
const V3_MANIFEST: &str = include_str!("fixtures/v3-data.json");
const V4_FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/v4-data");
const V4_MANIFEST: &str = include_str!("fixtures/v4-data.json");
/// sled's page cache for the test store.
const CACHE_BYTES: u64 = 16 << 20;
/// sled releases its file lock from a background thread after a drop; a reopen waits this long.
const REOPEN_WITHIN: Duration = Duration::from_secs(10);

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn reopen(dir: &Path) -> Store {
    let deadline = Instant::now() + REOPEN_WITHIN;
    loop {
        match Store::open(dir, CACHE_BYTES) {
            Ok(s) => return s,
            Err(e) if Instant::now() < deadline => {
                eprintln!("reopen not yet possible: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("cannot reopen the store: {e}"),
        }
    }
}

/// `[200, "500-503"]` as the API shows it.
fn status_ranges(v: &Value) -> Vec<StatusRange> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| match r {
            Value::Number(n) => {
                let code = n.as_u64().unwrap() as u16;
                StatusRange {
                    from: code,
                    to: code,
                }
            }
            Value::String(s) => {
                let (from, to) = s.split_once('-').unwrap();
                StatusRange {
                    from: from.parse().unwrap(),
                    to: to.parse().unwrap(),
                }
            }
            other => panic!("odd status range {other}"),
        })
        .collect()
}

fn opt_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

/// Every field the API showed of a monitor equals the stored definition's, as the API shows
/// it (secrets were redacted then too).
fn check_monitor(m: &Monitor, want: &Value) {
    let id = &m.id;
    assert_eq!(
        secret::redact_url(&m.url),
        want["url"].as_str().unwrap(),
        "{id}"
    );
    assert_eq!(m.name, want["name"], "{id}");
    assert_eq!(m.interval_secs, want["interval_secs"], "{id}");
    assert_eq!(m.timeout_ms, want["timeout_ms"], "{id}");
    assert_eq!(m.active, want["active"], "{id}");
    assert_eq!(m.failure_threshold, want["failure_threshold"], "{id}");
    assert_eq!(m.recovery_threshold, want["recovery_threshold"], "{id}");
    // Builds since the history work show the default statuses a monitor accepts (200-399),
    // earlier ones an empty list.
    let want_status = status_ranges(&want["expect_status"]);
    let shown = if want_status.is_empty() {
        &m.expect_status[..]
    } else {
        m.effective_expect_status()
    };
    assert_eq!(shown, &want_status[..], "{id}");
    let contains = opt_str(&want["expect_body_contains"]);
    assert_eq!(m.expect_body_contains, contains, "{id}");
    let not_contains = opt_str(&want["expect_body_not_contains"]);
    assert_eq!(m.expect_body_not_contains, not_contains, "{id}");
    assert_eq!(m.max_response_ms, want["max_response_ms"].as_u64(), "{id}");
    assert_eq!(m.method, want["method"], "{id}");
    let mut headers: Vec<(String, String)> = m
        .headers
        .iter()
        .map(|(n, v)| {
            let shown = secret::header_value(n, v, &m.secret_headers);
            (n.clone(), shown.to_owned())
        })
        .collect();
    headers.sort();
    let mut want_headers: Vec<(String, String)> = want["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    want_headers.sort();
    assert_eq!(headers, want_headers, "{id}");
    // Builds since user-marked secrets show a secret body as ***.
    assert_eq!(
        secret::body(m).map(str::to_owned),
        opt_str(&want["body"]),
        "{id}"
    );
    let marked: Vec<String> = want["secret_headers"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    assert_eq!(m.secret_headers, marked, "{id}");
    assert_eq!(m.secret_body, want["secret_body"] == true, "{id}");
    // Builds since zoned monitors show `zones` and `quorum`; older ones neither.
    let zones = match &want["zones"] {
        Value::Null => None,
        Value::String(all) if all == "all" => Some(Zones::All),
        v => Some(Zones::Only(serde_json::from_value(v.clone()).unwrap())),
    };
    assert_eq!(m.zones, zones, "{id}");
    assert_eq!(m.quorum.map(u64::from), want["quorum"].as_u64(), "{id}");
    // No build before record version 5 had public badges or reminders.
    assert!(!m.public_badges, "{id}");
    assert_eq!(m.repeat_every_secs, None, "{id}");
    assert_eq!(
        m.tls_min_days.map(u64::from),
        want["tls_min_days"].as_u64(),
        "{id}"
    );
    assert_eq!(m.tls_skip_verify, want["tls_skip_verify"], "{id}");
    assert_eq!(m.notifiers.is_none(), want["notifiers"].is_null(), "{id}");
    assert_eq!(m.created_ms, want["created_ms"], "{id}");
    assert!(!m.deleted, "{id}");
}

/// The stored state of a monitor the API showed as up/down, or paused (never probed).
fn check_state(state: Option<&MonitorState>, want: &Value, seq: u64) {
    let id = want["id"].as_str().unwrap();
    if want["active"] == false {
        assert!(
            state.is_none(),
            "{id}: a paused, never probed monitor has no state"
        );
        return;
    }
    let state = state.unwrap_or_else(|| panic!("{id} has no state"));
    assert_eq!(state.status.as_str(), want["status"], "{id}");
    assert_eq!(state.since_ms, want["status_since_ms"], "{id}");
    assert_eq!(state.seq, seq, "{id}: the last change's number");
}

/// Everything of the data directory, checked against the manifest. Returns nothing: panics.
fn check_everything(store: &Store, manifest: &Value) {
    let counts = &manifest["counts"];
    let monitors: BTreeMap<String, Monitor> = store
        .monitors()
        .unwrap()
        .into_iter()
        .map(|m| (m.id.clone(), m))
        .collect();
    assert_eq!(monitors.len() as u64, counts["monitors"]);
    for gone in manifest["deleted_monitors"].as_array().unwrap() {
        assert!(
            monitors[gone.as_str().unwrap()].deleted,
            "{gone} is a tombstone"
        );
    }

    let notifiers = store.notifiers().unwrap();
    assert_eq!(notifiers.len() as u64, counts["notifiers"]);
    let want = &manifest["notifiers"][0];
    assert_eq!(notifiers[0].id, want["id"]);
    assert_eq!(notifiers[0].name, want["name"]);
    let NotifierKind::Webhook { url } = &notifiers[0].kind else {
        panic!("not a webhook: {:?}", notifiers[0].kind);
    };
    // Builds since the security work show only a webhook's host.
    let shown = if want["url"].as_str().unwrap().ends_with("/***") {
        secret::redact_webhook(url)
    } else {
        url.clone()
    };
    assert_eq!(shown, want["url"].as_str().unwrap());
    let sink = url::Url::parse(url).unwrap();
    let hooks = manifest["webhook_events"].as_array().unwrap();
    assert_eq!(
        sink.path(),
        "/hook",
        "the path {} webhooks went to",
        hooks.len()
    );

    let events = manifest["webhook_events"].as_array().unwrap();
    let states: BTreeMap<String, MonitorState> = store.states().unwrap().into_iter().collect();
    let probed = manifest["monitors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["active"] == true)
        .count();
    assert_eq!(states.len(), probed, "one state per probed monitor");
    let mut results = 0;
    for want in manifest["monitors"].as_array().unwrap() {
        let id = want["id"].as_str().unwrap();
        check_monitor(&monitors[id], want);
        let stored = store.results(id, 0, usize::MAX).unwrap();
        let expected: Vec<ProbeResult> =
            serde_json::from_value(manifest["results"][id].clone()).unwrap();
        assert_eq!(stored, expected, "{id}: every result, field for field");
        results += stored.len();
        let changes = events.iter().filter(|e| e["monitor_id"] == id).count();
        check_state(states.get(id), want, changes as u64);
        check_deliveries(
            &store.deliveries_of(id).unwrap(),
            &manifest["incidents"][id],
        );
    }
    assert_eq!(results as u64, counts["results"]);

    assert_eq!(
        store.all_transitions().unwrap().len() as u64,
        counts["transitions"]
    );
    assert_eq!(
        store.deliveries().unwrap().len() as u64,
        counts["deliveries"]
    );
    for event in events {
        check_transition(store, event, &notifiers[0].id);
    }
}

/// The transition a webhook notification announced, and its delivery record.
fn check_transition(store: &Store, event: &Value, channel: &str) {
    let (id, seq) = event["event_id"].as_str().unwrap().split_once('/').unwrap();
    let seq: u64 = seq.parse().unwrap();
    let t = store
        .transition(id, seq)
        .unwrap()
        .unwrap_or_else(|| panic!("transition {id}/{seq}"));
    assert_eq!(t.name, event["name"]);
    assert_eq!(t.url, event["url"]);
    assert_eq!(t.from.as_str(), event["previous_status"]);
    assert_eq!(t.to.as_str(), event["status"]);
    assert_eq!(t.at_ms, event["since_ms"]);
    assert_eq!(t.reason, event["reason"]);
    assert_eq!(t.node, event["node"]);
    assert_eq!(t.confirmed_by, opt_str(&event["confirmed_by"]));
    let last: ProbeResult = serde_json::from_value(event["last_result"].clone()).unwrap();
    assert_eq!(t.last_result, Some(last));
    assert_eq!(t.channels, [channel]);
    // Builds since zoned monitors name the zones down (null for a monitor without zones).
    if let Some(down) = event["zones_down"].as_array() {
        let down: Vec<&str> = down.iter().map(|z| z.as_str().unwrap()).collect();
        assert_eq!(t.zones_down, down);
        assert_eq!(t.zones_reachable, event["zones_reachable"]);
    } else {
        assert!(t.zones_down.is_empty() && t.zones_reachable == 0);
    }
    assert!(
        store.delivered(id, seq, channel).unwrap(),
        "{id}/{seq} delivered"
    );
}

/// A monitor's delivery records are the alerts its incidents list.
fn check_deliveries(stored: &[Delivery], incidents: &Value) {
    let stored: BTreeSet<(String, u64, u64, u64, String)> = stored
        .iter()
        .inspect(|d| assert_eq!(d.failed, None))
        .map(|d| {
            let attempts = u64::from(d.attempts);
            (d.channel.clone(), d.at_ms, attempts, d.seq, d.node.clone())
        })
        .collect();
    let mut want = BTreeSet::new();
    let mut seq = 0;
    for incident in incidents.as_array().unwrap() {
        for alert in incident["alerts"].as_array().unwrap() {
            assert_eq!(alert["outcome"], "delivered");
            // The fixture's monitors went pending -> down -> up: changes 1 and 2, in order.
            seq += 1;
            want.insert((
                opt_str(&alert["channel"]).unwrap(),
                alert["at_ms"].as_u64().unwrap(),
                alert["attempts"].as_u64().unwrap(),
                seq,
                opt_str(&alert["node"]).unwrap(),
            ));
        }
    }
    assert_eq!(stored, want);
}

#[test]
fn the_v2_storage_fixture_opens_with_every_record() {
    let manifest: Value = serde_json::from_str(MANIFEST).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(FIXTURE_DIR), tmp.path());

    let store = Store::open(tmp.path(), CACHE_BYTES).unwrap();
    let report = store.open_report().clone();
    assert_eq!(report.found_format, None, "version 2 stores had no marker");
    assert!(
        report.walked,
        "a store without a marker is checked record by record"
    );
    let counts = &manifest["counts"];
    assert_eq!(
        report.migrated_records(),
        counts["monitors"].as_u64().unwrap() + counts["transitions"].as_u64().unwrap(),
        "the monitors and transitions are rewritten (versions 3 and 4); every other record \
         stays as it is"
    );
    assert_eq!(store.future_records(), 0);
    check_everything(&store, &manifest);
    let asserted = store.get_monitor("m-651124f258b3103a").unwrap().unwrap();
    assert_eq!(
        asserted.headers,
        [
            ("X-Fixture".to_owned(), "yes".to_owned()),
            ("Accept".to_owned(), "text/plain".to_owned())
        ],
        "headers keep their order"
    );
    assert_eq!(store.corrupt_records(), 0);
    // The prune pass the recorder runs packs the old rows into blocks; nothing is older than 0.
    for m in manifest["monitors"].as_array().unwrap() {
        let id = m["id"].as_str().unwrap();
        assert_eq!(store.prune_results(id, 0).unwrap(), 0, "{id}");
    }
    check_everything(&store, &manifest);
    assert_eq!(store.corrupt_records(), 0);
    drop(store);

    let store = reopen(tmp.path());
    let report = store.open_report();
    assert_eq!(report.found_format, Some(RECORD_VERSION));
    assert!(!report.walked, "the second open trusts the marker");
    check_everything(&store, &manifest);
    assert_eq!(store.corrupt_records(), 0);
}

/// The monitor of `v2-blocks-data` with secrets, and its headers as stored.
const V2_SECRETIVE: &str = "m-8ba519edc74fe1cc";
const V2_HEADERS: &[(&str, &str)] = &[
    ("Authorization", "Bearer fixture-secret-1"),
    ("X-Fixture", "yes"),
    ("X-Custom-Auth", "fixture-secret-4"),
];

#[test]
fn the_last_version_2_fixture_opens_with_every_record() {
    let manifest: Value = serde_json::from_str(BLOCKS_MANIFEST).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(BLOCKS_FIXTURE_DIR), tmp.path());

    let store = Store::open(tmp.path(), CACHE_BYTES).unwrap();
    let report = store.open_report().clone();
    assert_eq!(
        report.found_format,
        Some(2),
        "the marker of version 2 builds"
    );
    assert_eq!(
        report.walked_trees,
        [Tree::Monitors, Tree::Transitions],
        "only monitors and transitions changed layout"
    );
    let counts = &manifest["counts"];
    assert_eq!(
        report.migrated_records(),
        counts["monitors"].as_u64().unwrap() + counts["transitions"].as_u64().unwrap()
    );
    check_blocks_fixture(&store, &manifest, V2_SECRETIVE, V2_HEADERS);
    drop(store);

    let store = reopen(tmp.path());
    assert_eq!(store.open_report().found_format, Some(RECORD_VERSION));
    assert!(
        !store.open_report().walked,
        "the second open trusts the marker"
    );
    check_blocks_fixture(&store, &manifest, V2_SECRETIVE, V2_HEADERS);
}

/// [`check_everything`], plus what only the newer fixtures hold: secrets, tokens, rollups.
/// `secretive` is the monitor with secrets and `headers` its headers, as stored.
fn check_blocks_fixture(
    store: &Store,
    manifest: &Value,
    secretive: &str,
    headers: &[(&str, &str)],
) {
    check_everything(store, manifest);
    assert_eq!(store.corrupt_records(), 0);
    assert_eq!(store.future_records(), 0);

    // The secrets the API showed as *** are intact (their values are in fixtures/README.md).
    let secretive = store.get_monitor(secretive).unwrap().unwrap();
    assert!(
        secretive.url.contains("user:fixture-pass-2@"),
        "{}",
        secretive.url
    );
    assert!(
        secretive.url.contains("api_key=fixture-key-3"),
        "{}",
        secretive.url
    );
    let want_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert_eq!(secretive.headers, want_headers, "headers and their order");
    assert_eq!(
        secretive.body.as_deref(),
        Some(r#"{"password":"fixture-body-5"}"#)
    );

    let tokens: Vec<ApiToken> = store
        .scan_prefix(Tree::Definitions, b"token\x00", "token")
        .unwrap();
    let want = manifest["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), want.len());
    for w in want {
        let t = tokens
            .iter()
            .find(|t| t.id == w["id"].as_str().unwrap())
            .unwrap_or_else(|| panic!("token {}", w["id"]));
        assert_eq!(t.name, w["name"]);
        assert_eq!(t.scope.as_str(), w["scope"]);
        assert_eq!(t.created_ms, w["created_ms"]);
        assert!(!t.deleted);
    }

    // The minute rollups hold every check the 1 h stats counted, one per stored result.
    for m in manifest["monitors"].as_array().unwrap() {
        let id = m["id"].as_str().unwrap();
        let buckets = store.rollups(id, Resolution::Minute, 0, u64::MAX).unwrap();
        let checks: u64 = buckets.iter().map(|(_, b)| u64::from(b.checks)).sum();
        let want = manifest["stats_1h"][id]["checks"].as_u64().unwrap_or(0);
        assert_eq!(checks, want, "{id}: checks in the minute rollups");
        let results = manifest["results"][id].as_array().unwrap().len() as u64;
        assert_eq!(checks, results, "{id}: a check per result");
    }
}

#[test]
fn the_last_version_3_fixture_opens_with_every_record() {
    let manifest: Value = serde_json::from_str(V3_MANIFEST).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(V3_FIXTURE_DIR), tmp.path());
    const SECRETIVE: &str = "m-b86c617ecf0268f8";
    const HEADERS: &[(&str, &str)] = &[
        ("Authorization", "Bearer fixture-secret-1"),
        ("X-Fixture", "yes"),
        ("X-Custom-Auth", "fixture-secret-4"),
        ("X-Tenant", "fixture-secret-6"),
    ];

    let store = Store::open(tmp.path(), CACHE_BYTES).unwrap();
    let report = store.open_report().clone();
    assert_eq!(
        report.found_format,
        Some(3),
        "the marker of version 3 builds"
    );
    assert_eq!(
        report.walked_trees,
        [Tree::Monitors, Tree::Transitions],
        "only monitors and transitions changed layout"
    );
    let counts = &manifest["counts"];
    let changed = counts["monitors"].as_u64().unwrap() + counts["transitions"].as_u64().unwrap();
    assert_eq!(report.migrated_records(), changed);
    check_blocks_fixture(&store, &manifest, SECRETIVE, HEADERS);
    let secretive = store.get_monitor(SECRETIVE).unwrap().unwrap();
    assert!(secretive.secret_body);
    // Results and transitions of a version 3 build carry no zone; their nodes are both
    // zones' (the manifest names each node's zone).
    let nodes = manifest["nodes"].as_object().unwrap();
    let mut seen = BTreeSet::new();
    for m in manifest["monitors"].as_array().unwrap() {
        for r in store
            .results(m["id"].as_str().unwrap(), 0, usize::MAX)
            .unwrap()
        {
            assert_eq!(r.zone, "");
            assert!(nodes.contains_key(&r.node), "{}", r.node);
            seen.insert(r.node);
        }
    }
    assert_eq!(seen.len(), 2, "results of both nodes");
    for t in store.all_transitions().unwrap() {
        assert!(t.zones_down.is_empty() && t.zones_reachable == 0);
    }
    drop(store);

    let store = reopen(tmp.path());
    assert_eq!(store.open_report().found_format, Some(RECORD_VERSION));
    assert!(
        !store.open_report().walked,
        "the second open trusts the marker"
    );
    check_blocks_fixture(&store, &manifest, SECRETIVE, HEADERS);
}

#[test]
fn the_last_version_4_fixture_opens_with_every_record() {
    let manifest: Value = serde_json::from_str(V4_MANIFEST).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(Path::new(V4_FIXTURE_DIR), tmp.path());
    const SECRETIVE: &str = "m-37ab8ba382c9e04a";
    const ZONED: &str = "m-4f8b2553ea363433";
    const HEADERS: &[(&str, &str)] = &[
        ("Authorization", "Bearer fixture-secret-1"),
        ("X-Fixture", "yes"),
        ("X-Custom-Auth", "fixture-secret-4"),
        ("X-Tenant", "fixture-secret-6"),
    ];

    let store = Store::open(tmp.path(), CACHE_BYTES).unwrap();
    let report = store.open_report().clone();
    assert_eq!(
        report.found_format,
        Some(4),
        "the marker of version 4 builds"
    );
    assert_eq!(
        report.walked_trees,
        [Tree::Monitors],
        "only monitors changed layout"
    );
    assert_eq!(report.migrated_records(), manifest["counts"]["monitors"]);
    check_blocks_fixture(&store, &manifest, SECRETIVE, HEADERS);
    let zoned = store.get_monitor(ZONED).unwrap().unwrap();
    assert_eq!(
        (zoned.zones, zoned.quorum),
        (Some(Zones::Only(vec!["eu".into(), "us".into()])), Some(1))
    );
    // Every result carries its prober's zone, as the manifest names the nodes' zones.
    let nodes = manifest["nodes"].as_object().unwrap();
    let mut zones = BTreeSet::new();
    for m in manifest["monitors"].as_array().unwrap() {
        for r in store
            .results(m["id"].as_str().unwrap(), 0, usize::MAX)
            .unwrap()
        {
            assert_eq!(nodes[&r.node], r.zone.as_str(), "{}", r.node);
            zones.insert(r.zone);
        }
    }
    assert_eq!(zones.len(), 2, "results of both zones");
    let zoned_downs = store
        .all_transitions()
        .unwrap()
        .into_iter()
        .filter(|t| t.monitor_id == ZONED && !t.zones_down.is_empty())
        .count();
    assert_eq!(zoned_downs, 1, "the zoned monitor's down names its zones");
    drop(store);

    let store = reopen(tmp.path());
    assert_eq!(store.open_report().found_format, Some(RECORD_VERSION));
    assert!(
        !store.open_report().walked,
        "the second open trusts the marker"
    );
    check_blocks_fixture(&store, &manifest, SECRETIVE, HEADERS);
}
