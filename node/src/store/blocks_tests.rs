//! The block codec: exact round trips, its size at a steady interval, and hostile bytes.

use super::*;
use crate::store::tests::Rng;

fn body(at_ms: u64, node: &str) -> ResultBody {
    ResultBody {
        at_ms,
        ok: true,
        status_code: Some(200),
        latency_ms: 42,
        error: None,
        error_kind: None,
        node: node.into(),
        tls_days_left: None,
        zone: String::new(),
    }
}

fn round_trip(entries: &[ResultBody]) -> Vec<u8> {
    let bytes = encode(entries);
    let block = decode(&bytes).unwrap();
    let back: Vec<ResultBody> = (0..block.len()).map(|i| block.body(i)).collect();
    assert_eq!(back, entries);
    assert_eq!(count(&bytes).unwrap(), entries.len());
    bytes
}

const KINDS: [ErrorKind; 9] = [
    ErrorKind::Dns,
    ErrorKind::Refused,
    ErrorKind::Timeout,
    ErrorKind::Tls,
    ErrorKind::Redirects,
    ErrorKind::BadStatus,
    ErrorKind::Assertion,
    ErrorKind::Protocol,
    ErrorKind::Other,
];

#[test]
fn every_field_round_trips() {
    let mut entries = Vec::new();
    let mut at = 1_700_000_000_000;
    for i in 0..200u64 {
        // Steady, jittered, repeated and backwards steps.
        at = match i % 7 {
            0 => at,
            1 => at - 3,
            2 => at + 60_000 + i,
            _ => at + 1_000,
        };
        let failed = i % 5 == 0;
        entries.push(ResultBody {
            at_ms: at,
            ok: !failed,
            status_code: match i % 4 {
                0 => None,
                1 => Some(200),
                2 => Some(u16::MAX),
                _ => Some(0),
            },
            latency_ms: if i % 11 == 0 { u64::MAX } else { i * 37 },
            error: failed.then(|| format!("status {}", 500 + i % 3)),
            error_kind: (failed || i % 9 == 0).then(|| KINDS[i as usize % KINDS.len()]),
            node: format!("node-{}", i % 3),
            tls_days_left: match i % 6 {
                0 => None,
                1 => Some(-5),
                2 => Some(i64::MIN),
                3 => Some(i64::MAX),
                _ => Some(90),
            },
            zone: String::new(),
        });
    }
    round_trip(&entries);
    round_trip(&[body(0, "")]);
    round_trip(&[body(u64::MAX, "n"), body(0, "n"), body(u64::MAX, "ü")]);
}

#[test]
fn every_error_kind_keeps_its_code() {
    for (i, kind) in KINDS.into_iter().enumerate() {
        assert_eq!(
            kind_code(kind),
            i as u8 + 1,
            "codes are the format: never renumber"
        );
        assert_eq!(kind_from_code(kind_code(kind)), Some(kind));
    }
    assert_eq!(kind_from_code(0), None);
    assert_eq!(kind_from_code(10), None);
}

/// The layout's cost at a steady interval: the point of blocks.
#[test]
fn a_steady_monitor_costs_a_few_bytes_per_result() {
    let mut rng = Rng::new(7);
    for (interval, latency, most) in [(1_000, 10, 3.5), (60_000, 400, 4.5)] {
        let mut at = 1_760_000_000_000u64;
        let entries: Vec<ResultBody> = (0..64)
            .map(|_| {
                at += interval + rng.below(5);
                ResultBody {
                    latency_ms: rng.below(latency),
                    ..body(at, "node-a")
                }
            })
            .collect();
        let bytes = round_trip(&entries);
        let per_result = bytes.len() as f64 / entries.len() as f64;
        assert!(
            per_result <= most,
            "{interval} ms: {per_result} B per result"
        );
    }
}

/// Every prefix, every single-byte change and random bytes: an error or a block, no panic.
#[test]
fn hostile_bytes_never_panic() {
    let mut entries: Vec<ResultBody> = (0..40).map(|i| body(1_000 + i * 997, "n1")).collect();
    entries[3].error = Some("boom".into());
    entries[3].error_kind = Some(ErrorKind::Timeout);
    entries[7].tls_days_left = Some(12);
    entries[9].node = "n2".into();
    let good = encode(&entries);
    for n in 0..good.len() {
        assert!(decode(&good[..n]).is_err(), "a block cut at {n} bytes");
        let _ = count(&good[..n]);
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(decode(&trailing).is_err());
    for i in 0..good.len() {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff] {
            let mut bad = good.clone();
            bad[i] = v;
            let _ = decode(&bad);
            let _ = count(&bad);
        }
    }
    let mut rng = Rng::new(11);
    for _ in 0..20_000 {
        let len = rng.below(64) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Some(b) = bytes.first_mut() {
            *b = RECORD_VERSION;
        }
        let _ = decode(&bytes);
        let _ = count(&bytes);
    }
}

#[test]
fn malformed_blocks_say_why() {
    let v = RECORD_VERSION;
    let cases: Vec<(Vec<u8>, DecodeError)> = vec![
        (vec![], DecodeError::Empty),
        (
            vec![v + 1, 1, 0, 0],
            DecodeError::Version {
                found: v + 1,
                expected: v,
            },
        ),
        (vec![v, 0, 0, 0], malformed("no entries")),
        // A count far beyond the bytes: refused before allocating.
        (
            vec![v, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0],
            malformed("count exceeds the record"),
        ),
        // count 1, first 0, one string of 200 bytes that are not there.
        (
            vec![v, 1, 0, 1, 200, 1, 0, 0],
            malformed("count exceeds the record"),
        ),
        // A varint of 20 bytes.
        (
            [vec![v], vec![0x80; 19], vec![0x01]].concat(),
            malformed("varint too long"),
        ),
        // count 1, first 0, one string "n", then an entry with an unknown flag.
        (
            vec![v, 1, 0, 1, 1, b'n', 0x80, 0, 0],
            malformed("unknown entry flags"),
        ),
        // The entry names string 5 of 1.
        (
            vec![v, 1, 0, 1, 1, b'n', NEW_NODE, 0, 5, 0],
            malformed("string index out of range"),
        ),
        // The first entry names no node.
        (
            vec![v, 1, 0, 1, 1, b'n', 0, 0, 0],
            malformed("the first entry names no node"),
        ),
        // A string that is not utf-8.
        (
            vec![v, 1, 0, 1, 1, 0xff, NEW_NODE, 0, 0, 0],
            malformed("a string is not utf-8"),
        ),
        // A time before 0.
        (
            vec![v, 1, 0, 1, 1, b'n', NEW_NODE, 1, 0, 0],
            malformed("time out of range"),
        ),
    ];
    for (bytes, want) in cases {
        assert_eq!(decode(&bytes).unwrap_err(), want, "{bytes:?}");
    }
}

#[test]
fn zones_round_trip_and_cost_a_byte_only_when_they_change() {
    let zoned = |at, node: &str, zone: &str| ResultBody {
        zone: zone.into(),
        ..body(at, node)
    };
    let entries = [
        zoned(1_000, "a1", "a"),
        zoned(2_000, "a1", "a"),
        zoned(3_000, "b1", "b"),
        zoned(4_000, "old", ""),
        zoned(5_000, "a2", "a"),
    ];
    round_trip(&entries);
    // A steady zone costs nothing per entry: the same size as no zone but its one mention.
    let steady: Vec<ResultBody> = (0..100).map(|i| zoned(i * 1_000, "a1", "a")).collect();
    let plain: Vec<ResultBody> = (0..100).map(|i| body(i * 1_000, "a1")).collect();
    let cost = round_trip(&steady).len() - round_trip(&plain).len();
    assert_eq!(
        cost, 3,
        "the string (length + 'a') and the first entry's index"
    );
}

#[test]
fn a_block_of_version_3_reads_with_no_zone() {
    let plain: Vec<ResultBody> = (0..10).map(|i| body(i * 1_000, "n1")).collect();
    let mut bytes = encode(&plain);
    bytes[0] = 3; // the same layout, written by a version 3 build
    let block = decode(&bytes).unwrap();
    assert!((0..block.len()).all(|i| block.body(i).zone.is_empty()));
}
