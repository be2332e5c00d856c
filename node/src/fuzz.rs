//! Fuzz targets, run as bounded property tests (proptest) with every `cargo test`: whatever
//! bytes arrive, each decoder and parser answers an error or a valid value, and never panics.
//! cargo-fuzz would need a nightly toolchain; these run on the stable one the project builds
//! with, 20,000 cases of each byte-level target and 3,000 structured API bodies, in a few
//! seconds. A target also fails when too few cases get past its decoder (a stale corpus).
//!
//! | target | what it feeds | the property |
//! | --- | --- | --- |
//! | `peer_frames` | bytes as a peer's frame: decoded, checked by the inbox's guard, merged into the replicated tables | an error, or an envelope that re-encodes to itself and that the guard and tables take or refuse |
//! | `endpoint_messages` | a transport message with any variant, arguments and metadata | an error, or a frame |
//! | `stored_records` | bytes as a record read from disk: every stored type, result blocks, rollup blocks, the version-1 migrations | an error, or a value that re-encodes to itself (blocks: whose head agrees with its body) |
//! | `api_bodies` | bytes as the body of `POST`/`PATCH /api/monitors`, `POST /api/notifiers`, `POST /api/tokens` | a 400 error, or input that validates into a definition within the size cap |
//!
//! Each target starts from a seed corpus of real encodings, committed in
//! `tests/fuzz-corpus/<target>/` (frames of every message kind, records of every stored kind,
//! API bodies of every kind), and mutates them: bit flips, byte changes, insertions,
//! deletions, truncations, repeats and splices of two seeds. Half of the cases are random
//! bytes instead; `api_bodies` adds structured JSON with odd values in every known field. The
//! corpus is written by the ignored test `fuzz::write_corpus` (`cargo test -p ringwatch --lib
//! fuzz::write_corpus -- --ignored`); `corpus_seeds_are_real_encodings` checks it still
//! decodes, so a format change is noticed (write it again then). Set `RINGWATCH_FUZZ_CASES` to run more cases.

use std::path::PathBuf;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use ringwatch_proto::{
    ApiToken, Delivery, DeliveryAttempt, EmailChannel, Envelope, ErrorKind, MemberInfo, Monitor,
    MonitorState, Notifier, NotifierKind, PeerMsg, ProbeResult, Rev, RollupFrame, Scope,
    SmtpSecurity, Status, StatusPage, StatusRange, Transition, decode, decode_record, encode,
    encode_record,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::input::{parse_create, parse_patch};
use crate::clock::Hlc;
use crate::cluster::guard;
use crate::domain::notifier::NotifierInput;
use crate::domain::rollup::{Block, Bucket, Resolution};
use crate::domain::spec::{MAX_DEFINITION_BYTES, definition_bytes};
use crate::state::Table;
use crate::store::{Store, fuzzing, migrate};

/// Cases of the byte-level targets unless `RINGWATCH_FUZZ_CASES` says otherwise (about a
/// second each).
const CASES: u32 = 20_000;
/// Cases of `api_bodies` (each builds and parses JSON of up to a few hundred KB).
const BODY_CASES: u32 = 3_000;
/// A fixed time for the corpus (2023-11-14), so it is written the same every time.
const T: u64 = 1_700_000_000_000;

fn cases(default: u32) -> u32 {
    std::env::var("RINGWATCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner_of(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn runner() -> TestRunner {
    runner_of(cases(CASES))
}

/// Counts the cases that got past decoding, so a target that never reaches the code behind
/// the decoder (a corpus gone stale, mutations too coarse) fails instead of passing idly.
#[derive(Default)]
struct Reached(std::sync::atomic::AtomicU32);

impl Reached {
    fn hit(&self) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// At least one case in `one_in` got there.
    fn assert_at_least(&self, one_in: u32, what: &str) {
        let hits = self.0.load(std::sync::atomic::Ordering::Relaxed);
        let cases = cases(CASES);
        assert!(
            hits >= cases / one_in,
            "only {hits} of {cases} cases reached {what}"
        );
    }
}

fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fuzz-corpus")
        .join(target)
}

/// The committed seeds of `target`, by file name.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no seed corpus at {}: {e}", dir.display()))
        .map(|e| e.expect("corpus entry").path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read a seed"))
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "empty seed corpus at {}", dir.display());
    seeds
}

/// One mutation of a seed: (kind, position, value).
type Edit = (u8, usize, u8);

fn mutate(seeds: &[Vec<u8>], seed: usize, edits: &[Edit]) -> Vec<u8> {
    let mut b = seeds[seed % seeds.len()].clone();
    for &(kind, at, v) in edits {
        let i = if b.is_empty() { 0 } else { at % b.len() };
        match kind % 8 {
            0 if !b.is_empty() => b[i] ^= 1 << (v % 8),
            1 if !b.is_empty() => b[i] = v,
            2 => b.insert(i.min(b.len()), v),
            3 if !b.is_empty() => {
                b.remove(i);
            }
            4 => b.truncate(i),
            5 if !b.is_empty() => {
                let end = (i + 1 + v as usize % 16).min(b.len());
                let run = b[i..end].to_vec();
                b.splice(i..i, run);
            }
            6 if !b.is_empty() => b[i] = [0, 0x7f, 0x80, 0xff][v as usize % 4],
            7 => {
                let other = &seeds[(seed + 1 + v as usize) % seeds.len()];
                let from = at % (other.len() + 1);
                b.truncate(i);
                b.extend_from_slice(&other[from..]);
            }
            _ => {}
        }
    }
    b
}

/// Seeds mutated a few times each, or random bytes.
fn inputs(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    let seeds = Arc::new(seeds);
    let n = seeds.len();
    let edits = prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 0..6);
    let mutated = (0..n, edits).prop_map(move |(i, e)| mutate(&seeds, i, &e));
    prop_oneof![
        3 => mutated,
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn seeds_of(target: &str) -> Vec<Vec<u8>> {
    corpus(target).into_iter().map(|(_, b)| b).collect()
}

/// An error, or a message that encodes back to itself.
fn round_trips<T>(decoded: Result<T, ringwatch_proto::DecodeError>) -> Option<T>
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let value = decoded.ok()?;
    let again: T = decode(&encode(&value)).expect("a decoded value encodes and decodes again");
    assert_eq!(again, value);
    Some(value)
}

/// An error, or a record that encodes back to itself.
fn record_round_trips<T>(decoded: Result<T, ringwatch_proto::DecodeError>) -> Option<T>
where
    T: ringwatch_proto::Record + PartialEq + std::fmt::Debug,
{
    let value = decoded.ok()?;
    let again: T =
        decode_record(&encode_record(&value)).expect("a decoded value encodes and decodes again");
    assert_eq!(again, value);
    Some(value)
}

// ---- peer frames ----

/// The tables a peer's definitions are merged into, as the inbox does.
struct Tables {
    hlc: Hlc,
    monitors: Table<Monitor>,
    notifiers: Table<Notifier>,
    tokens: Table<ApiToken>,
    pages: Table<StatusPage>,
}

impl Tables {
    fn new() -> Self {
        let store = Store::in_memory();
        Tables {
            hlc: Hlc::default(),
            monitors: Table::load(store.clone(), "n1").unwrap(),
            notifiers: Table::load(store.clone(), "n1").unwrap(),
            tokens: Table::load(store.clone(), "n1").unwrap(),
            pages: Table::load(store, "n1").unwrap(),
        }
    }

    /// What the inbox does with a frame that decoded, without the actors: the sender check,
    /// the guard's record checks, the definitions merge.
    fn take(&self, envelope: Envelope) {
        let now = crate::clock::now_ms();
        let session =
            crate::cluster::endpoint::session_name(&envelope.from.name, envelope.from.incarnation);
        let _ = guard::check_sender(Some(&session), &envelope.from, "n1");
        let _ = guard::check_sender(Some("n2~1"), &envelope.from, "n1");
        let from = envelope.from.name.clone();
        let zone = envelope.from.zone.clone();
        match envelope.body {
            PeerMsg::Results { mut results, .. } => {
                guard::admit_results(&mut results, Some((&from, &zone)), now);
                assert!(results.iter().all(|r| r.node == from && r.zone == zone));
            }
            PeerMsg::CatchUpPage { mut results, .. } => {
                guard::admit_results(&mut results, None, now);
            }
            PeerMsg::Confirmed { result, .. } => {
                let _ = guard::result_refusal(&result, Some((&from, &zone)), now);
            }
            PeerMsg::Transitions(mut ts) => {
                guard::admit_transitions(&mut ts, now);
                assert!(ts.iter().all(|t| t.seq <= guard::MAX_TRANSITION_SEQ));
            }
            PeerMsg::Rollups(mut frames) => {
                guard::admit_own_rollups(&mut frames, &from);
                for f in frames {
                    let _ = crate::history::from_frame(f);
                }
            }
            PeerMsg::RollupPage { rollups, .. } => {
                for f in rollups {
                    let _ = crate::history::from_frame(f);
                }
            }
            defs @ (PeerMsg::Definitions(_) | PeerMsg::Notifiers(_) | PeerMsg::Records { .. }) => {
                let rest = match self.monitors.receive(defs, &self.hlc) {
                    Ok(merged) => return assert_taken(&merged.changed),
                    Err(rest) => rest,
                };
                let rest = match self.notifiers.receive(rest, &self.hlc) {
                    Ok(merged) => return assert_taken(&merged.changed),
                    Err(rest) => rest,
                };
                let rest = match self.tokens.receive(rest, &self.hlc) {
                    Ok(merged) => return assert_taken(&merged.changed),
                    Err(rest) => rest,
                };
                if let Ok(merged) = self.pages.receive(rest, &self.hlc) {
                    assert_taken(&merged.changed);
                }
            }
            _ => {}
        }
    }
}

/// What a table took from a peer is what the API could have made.
fn assert_taken<D: crate::state::Definition>(changed: &[Arc<D>]) {
    for d in changed {
        if !d.is_deleted() {
            d.validate().expect("a merged definition is valid");
        }
        assert!(ringwatch_proto::encoded_len(&**d) <= crate::state::table::MAX_RECORD_BYTES);
    }
}

#[test]
fn peer_frames() {
    let tables = Tables::new();
    let decoded = Reached::default();
    runner()
        .run(&inputs(seeds_of("peer-frames")), |bytes| {
            if let Some(envelope) = round_trips(decode::<Envelope>(&bytes)) {
                decoded.hit();
                tables.take(envelope);
            }
            Ok(())
        })
        .unwrap();
    decoded.assert_at_least(20, "the inbox's checks");
}

#[test]
fn endpoint_messages() {
    use crate::cluster::endpoint::EndpointMessage;
    use ractor::Message;
    use ractor::message::SerializedMessage;
    let strategy = (
        prop_oneof![Just("Frame".to_owned()), ".{0,8}"],
        prop::collection::vec(any::<u8>(), 0..64),
        prop::option::of(prop::collection::vec(any::<u8>(), 0..16)),
    );
    runner()
        .run(&strategy, |(variant, args, metadata)| {
            let msg = SerializedMessage::Cast {
                variant,
                args,
                metadata,
            };
            if let Ok(EndpointMessage::Frame { bytes, .. }) = EndpointMessage::deserialize(msg) {
                let again = EndpointMessage::frame(bytes.clone()).serialize().unwrap();
                let EndpointMessage::Frame { bytes: back, .. } =
                    EndpointMessage::deserialize(again).unwrap();
                assert_eq!(back, bytes);
            }
            Ok(())
        })
        .unwrap();
}

// ---- records from disk ----

#[test]
fn stored_records() {
    let decoded = Reached::default();
    runner()
        .run(&inputs(seeds_of("records")), |bytes| {
            let any = [
                record_round_trips(decode_record::<Monitor>(&bytes)).is_some(),
                record_round_trips(decode_record::<Notifier>(&bytes)).is_some(),
                record_round_trips(decode_record::<ApiToken>(&bytes)).is_some(),
                record_round_trips(decode_record::<StatusPage>(&bytes)).is_some(),
                record_round_trips(decode_record::<MonitorState>(&bytes)).is_some(),
                record_round_trips(decode_record::<Transition>(&bytes)).is_some(),
                record_round_trips(decode_record::<Delivery>(&bytes)).is_some(),
                record_round_trips(decode_record::<DeliveryAttempt>(&bytes)).is_some(),
                record_round_trips(decode_record::<Bucket>(&bytes)).is_some(),
                fuzzing::decode_result_body(&bytes).is_ok(),
            ];
            if any.contains(&true) {
                decoded.hit();
            }
            if let Ok(results) = fuzzing::decode_block(&bytes) {
                decoded.hit();
                let again = fuzzing::decode_block(&fuzzing::encode_block(&results));
                assert_eq!(again.as_ref(), Ok(&results));
            } else {
                let _ = fuzzing::block_count(&bytes);
            }
            if let Ok(block) = Block::decode(&bytes) {
                assert_eq!(Block::decode(&block.encode()).as_ref(), Ok(&block));
            }
            // Records of version 1 go through the migration, which must not panic either.
            for migrated in [
                migrate::v1::monitor(&bytes),
                migrate::v1::result(&bytes),
                migrate::v1::state(&bytes),
            ] {
                let _ = migrated;
            }
            Ok(())
        })
        .unwrap();
    decoded.assert_at_least(20, "a decoded record");
}

// ---- API bodies ----

/// What the API does with a body of each kind: a 400, or something valid.
fn take_body(bytes: &[u8]) {
    if let Ok((inputs, _)) = parse_create(bytes) {
        for input in inputs {
            if let Ok(m) = input.into_monitor() {
                crate::domain::spec::validate(&m).expect("a made monitor validates");
                assert!(definition_bytes(&m) <= MAX_DEFINITION_BYTES);
            }
        }
    }
    if let Ok(patch) = parse_patch(bytes) {
        let base = Monitor::new("m-1".into(), "https://a.example/x".into());
        if let Ok(m) = patch.apply(base) {
            assert!(definition_bytes(&m) <= MAX_DEFINITION_BYTES);
        }
    }
    if let Ok(input) = serde_json::from_slice::<NotifierInput>(bytes)
        && let Ok(n) = input.into_notifier()
    {
        crate::state::Definition::validate(&n).expect("a made notifier validates");
    }
    if let Ok(input) = serde_json::from_slice::<crate::api::tokens::TokenInput>(bytes) {
        let _ = crate::domain::token::validate_name(&input.name);
    }
}

/// JSON objects with the keys the API knows and odd values of every type.
fn json_bodies() -> impl Strategy<Value = Vec<u8>> {
    const KEYS: [&str; 30] = [
        "url",
        "name",
        "interval_secs",
        "timeout_ms",
        "active",
        "failure_threshold",
        "recovery_threshold",
        "expect_status",
        "expect_body_contains",
        "expect_body_not_contains",
        "max_response_ms",
        "method",
        "headers",
        "body",
        "tls_min_days",
        "tls_skip_verify",
        "notifiers",
        "kind",
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_username",
        "smtp_password",
        "from",
        "to",
        "scope",
        "id",
        "x",
        "",
        "url_file",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<u64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        prop_oneof![
            Just("https://a.example/".to_owned()),
            Just("tcp://a.example:5432".to_owned()),
            Just("200-299".to_owned()),
            Just("***".to_owned()),
            Just("POST".to_owned()),
            Just("webhook".to_owned()),
            Just("email".to_owned()),
            Just("read".to_owned()),
            ".{0,40}",
            "\\PC{0,200}",
        ]
        .prop_map(serde_json::Value::from),
        (1usize..300_000).prop_map(|n| serde_json::Value::from("y".repeat(n))),
    ];
    let value = leaf.prop_recursive(2, 16, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map("[A-Za-z-]{0,12}", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    let object = prop::collection::btree_map(prop::sample::select(&KEYS[..]), value, 0..10)
        .prop_map(|m| {
            let map: serde_json::Map<String, serde_json::Value> =
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            serde_json::Value::Object(map)
        });
    prop_oneof![
        3 => object.clone().prop_map(|o| serde_json::to_vec(&o).unwrap()),
        1 => prop::collection::vec(object, 0..4).prop_map(|a| serde_json::to_vec(&a).unwrap()),
    ]
}

#[test]
fn api_bodies() {
    runner()
        .run(&inputs(seeds_of("api-bodies")), |bytes| {
            take_body(&bytes);
            Ok(())
        })
        .unwrap();
    runner_of(cases(BODY_CASES))
        .run(&json_bodies(), |bytes| {
            take_body(&bytes);
            Ok(())
        })
        .unwrap();
}

// ---- the corpus ----

fn member(name: &str) -> MemberInfo {
    MemberInfo {
        name: name.into(),
        incarnation: T,
        cluster: "127.0.0.1:7801".into(),
        http: "127.0.0.1:8081".into(),
        zone: "default".into(),
    }
}

fn rev(node: &str) -> Rev {
    Rev {
        hlc: T << 16,
        node: node.into(),
    }
}

fn result(node: &str, at_ms: u64, ok: bool) -> ProbeResult {
    ProbeResult {
        monitor_id: "m-5f0c2a9e13d4b7a1".into(),
        at_ms,
        ok,
        status_code: Some(if ok { 200 } else { 503 }),
        latency_ms: 87,
        error: (!ok).then(|| "status 503".into()),
        error_kind: (!ok).then_some(ErrorKind::BadStatus),
        node: node.into(),
        tls_days_left: Some(42),
        zone: String::new(),
    }
}

fn monitors() -> Vec<Monitor> {
    let mut full = Monitor::new("m-5f0c2a9e13d4b7a1".into(), "https://a.example/api".into());
    full.name = "api".into();
    full.method = "POST".into();
    full.headers = vec![
        ("Authorization".into(), "Bearer t".into()),
        ("X-Tenant".into(), "acme".into()),
    ];
    full.secret_headers = vec!["X-Tenant".into()];
    full.body = Some("{}".into());
    full.secret_body = true;
    full.expect_status = vec![StatusRange { from: 200, to: 299 }];
    full.expect_body_contains = Some("ok".into());
    full.max_response_ms = Some(800);
    full.tls_min_days = Some(14);
    full.notifiers = Some(vec!["n-3f2a9c0d1e4b5a6f".into()]);
    full.created_ms = T;
    full.rev = rev("n1");
    let mut tcp = Monitor::new("m-0000000000000002".into(), "tcp://db.example:5432".into());
    tcp.rev = rev("n2");
    let mut tomb = Monitor::new("m-0000000000000003".into(), "http://gone.example/".into());
    tomb.deleted = true;
    tomb.active = false;
    tomb.rev = rev("n3");
    vec![full, tcp, tomb]
}

fn notifiers() -> Vec<Notifier> {
    let webhook = Notifier {
        id: "n-3f2a9c0d1e4b5a6f".into(),
        name: "hook".into(),
        kind: NotifierKind::Webhook {
            url: "https://hooks.example/x".into(),
        },
        rev: rev("n1"),
        deleted: false,
    };
    let email = Notifier {
        id: "n-0000000000000002".into(),
        name: "mail".into(),
        kind: NotifierKind::Email(EmailChannel {
            host: "smtp.example".into(),
            port: 587,
            security: SmtpSecurity::StartTls,
            username: Some("u".into()),
            password: Some("p".into()),
            from: "ringwatch@example.com".into(),
            to: vec!["ops@example.com".into()],
        }),
        rev: rev("n2"),
        deleted: false,
    };
    vec![webhook, email]
}

fn token() -> ApiToken {
    ApiToken {
        id: "t-0123456789abcdef".into(),
        name: "ci".into(),
        scope: Scope::Write,
        hash: [7; 32],
        created_ms: T,
        rev: rev("n1"),
        deleted: false,
    }
}

fn transition() -> Transition {
    Transition {
        monitor_id: "m-5f0c2a9e13d4b7a1".into(),
        name: "api".into(),
        url: "https://a.example/api".into(),
        seq: 3,
        from: Status::Up,
        to: Status::Down,
        at_ms: T,
        reason: "2 failed checks".into(),
        node: "n1".into(),
        confirmed_by: Some("n2".into()),
        last_result: Some(result("n1", T, false)),
        channels: vec!["n-3f2a9c0d1e4b5a6f".into()],
        zones_down: Vec::new(),
        zones_reachable: 0,
    }
}

fn delivery() -> Delivery {
    Delivery {
        monitor_id: "m-5f0c2a9e13d4b7a1".into(),
        seq: 3,
        channel: "n-3f2a9c0d1e4b5a6f".into(),
        at_ms: T + 1_000,
        node: "n1".into(),
        attempts: 1,
        failed: None,
    }
}

fn attempt() -> DeliveryAttempt {
    DeliveryAttempt {
        monitor_id: "m-5f0c2a9e13d4b7a1".into(),
        seq: 3,
        channel: "n-3f2a9c0d1e4b5a6f".into(),
        attempts: 2,
        last_error: "connection refused".into(),
        at_ms: T,
        next_attempt_ms: T + 30_000,
        node: "n1".into(),
    }
}

fn bucket() -> Bucket {
    let mut b = Bucket::new(T - T % 60_000);
    for (i, ok) in [true, true, false, true].into_iter().enumerate() {
        b.add(&result("n1", T + i as u64 * 1_000, ok));
    }
    b
}

fn rollup_frame() -> RollupFrame {
    RollupFrame {
        monitor_id: "m-5f0c2a9e13d4b7a1".into(),
        node: "n1".into(),
        resolution: Resolution::Minute.code(),
        bucket: encode_record(&bucket()),
    }
}

/// Every seed of every target, by target and file name.
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let frames: Vec<(&str, PeerMsg)> = vec![
        (
            "heartbeat",
            PeerMsg::Heartbeat {
                members: vec![member("n1"), member("n2"), member("n3")],
                acks: vec![("n2".into(), 41), ("n3".into(), 7)],
            },
        ),
        ("definitions", PeerMsg::Definitions(monitors())),
        (
            "results",
            PeerMsg::Results {
                seq: 42,
                results: vec![result("n1", T, true), result("n1", T + 1_000, false)],
            },
        ),
        ("leaving", PeerMsg::Leaving),
        (
            "catch-up",
            PeerMsg::CatchUp {
                watermarks: vec![("n2".into(), T), ("n3".into(), T - 15_000)],
                cursor: Some(("m-5f0c2a9e13d4b7a1".into(), T)),
            },
        ),
        (
            "catch-up-page",
            PeerMsg::CatchUpPage {
                results: vec![result("n2", T, true), result("n3", T, false)],
                next: Some(("m-5f0c2a9e13d4b7a1".into(), T + 1)),
            },
        ),
        ("notifiers", PeerMsg::Notifiers(notifiers())),
        ("transitions", PeerMsg::Transitions(vec![transition()])),
        ("deliveries", PeerMsg::Deliveries(vec![delivery()])),
        (
            "confirm",
            PeerMsg::Confirm {
                monitor_id: "m-5f0c2a9e13d4b7a1".into(),
                token: 9,
            },
        ),
        (
            "confirmed",
            PeerMsg::Confirmed {
                token: 9,
                result: Box::new(result("n1", T, false)),
            },
        ),
        ("attempts", PeerMsg::Attempts(vec![attempt()])),
        (
            "records-token",
            PeerMsg::Records {
                kind: "token".into(),
                records: vec![encode_record(&token())],
            },
        ),
        ("rollups", PeerMsg::Rollups(vec![rollup_frame()])),
        (
            "rollup-pull",
            PeerMsg::RollupPull {
                since_ms: T - 7_200_000,
                cursor: Some("m-5f0c2a9e13d4b7a1".into()),
            },
        ),
        (
            "rollup-page",
            PeerMsg::RollupPage {
                rollups: vec![rollup_frame()],
                next: None,
            },
        ),
    ];
    for (name, body) in frames {
        let envelope = Envelope {
            from: member("n1"),
            body,
        };
        out.push(("peer-frames", format!("{name}.bin"), encode(&envelope)));
    }
    let mut records: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, m) in monitors().iter().enumerate() {
        records.push((format!("monitor-{i}.bin"), encode_record(m)));
    }
    for (i, n) in notifiers().iter().enumerate() {
        records.push((format!("notifier-{i}.bin"), encode_record(n)));
    }
    let state = MonitorState {
        status: Status::Down,
        failures: 2,
        successes: 0,
        since_ms: T,
        seq: 3,
    };
    records.extend([
        ("token.bin".into(), encode_record(&token())),
        ("state.bin".into(), encode_record(&state)),
        ("transition.bin".into(), encode_record(&transition())),
        ("delivery.bin".into(), encode_record(&delivery())),
        ("attempt.bin".into(), encode_record(&attempt())),
        ("bucket.bin".into(), encode_record(&bucket())),
    ]);
    let steady: Vec<ProbeResult> = (0..20)
        .map(|i| result(["n1", "n2"][i % 2], T + i as u64 * 30_000, i % 7 != 3))
        .collect();
    records.push(("result-block.bin".into(), fuzzing::encode_block(&steady)));
    let mut rollups = Block::new(Resolution::Hour, T);
    rollups
        .upsert(&bucket_at(T - T % 3_600_000))
        .expect("the bucket is in the block");
    records.push(("rollup-block.bin".into(), rollups.encode()));
    for (name, bytes) in records {
        out.push(("records", name, bytes));
    }
    let bodies = [
        (
            "monitor.json",
            serde_json::json!({"url": "https://a.example/", "interval_secs": 30, "name": "a"}),
        ),
        (
            "monitor-full.json",
            serde_json::json!({
                "url": "https://a.example/api", "method": "POST", "headers": {"Authorization": "Bearer t"},
                "body": "{}", "expect_status": [200, "300-302"], "expect_body_contains": "ok",
                "expect_body_not_contains": "error", "max_response_ms": 800, "tls_min_days": 14,
                "failure_threshold": 3, "recovery_threshold": 2, "timeout_ms": 5000, "active": true,
                "tls_skip_verify": false, "notifiers": ["n-3f2a9c0d1e4b5a6f"]
            }),
        ),
        (
            "monitors-bulk.json",
            serde_json::json!([
                {"url": "tcp://db.example:5432", "interval_secs": 10},
                {"url": "http://b.example/health", "name": "b"}
            ]),
        ),
        (
            "patch.json",
            serde_json::json!({"interval_secs": 60, "active": false, "headers": null, "body": null}),
        ),
        (
            "notifier-webhook.json",
            serde_json::json!({"kind": "webhook", "name": "hook", "url": "https://hooks.example/x"}),
        ),
        (
            "notifier-email.json",
            serde_json::json!({
                "kind": "email", "smtp_host": "smtp.example", "smtp_port": 587, "smtp_security": "starttls",
                "smtp_username": "u", "smtp_password": "p", "from": "ringwatch@example.com", "to": ["ops@example.com"]
            }),
        ),
        (
            "token.json",
            serde_json::json!({"name": "ci", "scope": "write"}),
        ),
    ];
    for (name, body) in bodies {
        let text = serde_json::to_vec_pretty(&body).unwrap();
        out.push(("api-bodies", name.into(), text));
    }
    out
}

fn bucket_at(start_ms: u64) -> Bucket {
    let mut b = Bucket::new(start_ms);
    b.add(&result("n1", start_ms + 5_000, true));
    b.add(&result("n1", start_ms + 65_000, false));
    b
}

/// Writes the seed corpus (`cargo test -p ringwatch --lib fuzz::write_corpus -- --ignored`).
#[test]
#[ignore = "writes tests/fuzz-corpus; run by hand after a format change"]
fn write_corpus() {
    for (target, name, bytes) in seeds() {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

/// The committed corpus holds real encodings of this build's formats (a format change makes
/// this fail: write the corpus again).
#[test]
fn corpus_seeds_are_real_encodings() {
    for (name, bytes) in corpus("peer-frames") {
        decode::<Envelope>(&bytes).unwrap_or_else(|e| panic!("peer-frames/{name}: {e}"));
    }
    for (name, bytes) in corpus("records") {
        let kind = name.split(['-', '.']).next().unwrap();
        let ok = match kind {
            "monitor" => decode_record::<Monitor>(&bytes).is_ok(),
            "notifier" => decode_record::<Notifier>(&bytes).is_ok(),
            "token" => decode_record::<ApiToken>(&bytes).is_ok(),
            "state" => decode_record::<MonitorState>(&bytes).is_ok(),
            "transition" => decode_record::<Transition>(&bytes).is_ok(),
            "delivery" => decode_record::<Delivery>(&bytes).is_ok(),
            "attempt" => decode_record::<DeliveryAttempt>(&bytes).is_ok(),
            "bucket" => decode_record::<Bucket>(&bytes).is_ok(),
            "result" => fuzzing::decode_block(&bytes).is_ok(),
            "rollup" => Block::decode(&bytes).is_ok(),
            other => panic!("records/{name}: unknown kind {other}"),
        };
        assert!(ok, "records/{name} does not decode as a {kind}");
    }
    for (name, bytes) in corpus("api-bodies") {
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .unwrap_or_else(|e| panic!("api-bodies/{name}: {e}"));
    }
}
