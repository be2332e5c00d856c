//! The binary formats: one version byte, then postcard.
//!
//! postcard is not self-describing, so the version byte is what lets a later release read
//! (or refuse, with a clear error) records and messages written by an earlier one. We use
//! postcard rather than bincode: bincode's last release (3.0.0) is a `compile_error!` and the
//! crate is unmaintained (RUSTSEC-2025-0141).
//!
//! Two version numbers, which move independently:
//! - [`WIRE_VERSION`] fronts every peer message ([`encode`] / [`decode`]). A message of
//!   another version is refused: nodes of one cluster run one wire version.
//! - [`RECORD_VERSION`] fronts every stored record ([`encode_record`] / [`decode_record`]).
//!   A store holding older records migrates them when it opens (the node's `store::migrate`
//!   keeps the older layouts, frozen), so a record is never refused for being old; one of a
//!   newer version is kept on disk untouched and skipped by reads.
//!
//! A new record version usually changes the layout of one type, not all of them. Each stored
//! type says since which version its layout is the current one ([`Record::LAYOUT_SINCE`]),
//! and [`decode_record`] reads any version from there to [`RECORD_VERSION`]: an upgrade
//! rewrites only the records whose layout changed, not a store's whole history.

use serde::{Serialize, de::DeserializeOwned};

/// The version byte written in front of every peer message this build sends. Version 3:
/// monitors carry `secret_headers` and `secret_body`, members their `zone`; version 4:
/// monitors carry `zones` and `quorum`, results their `zone`, transitions the zones down;
/// version 5: monitors carry `public_badges` and `repeat_every_secs`.
pub const WIRE_VERSION: u8 = 5;

/// The version byte written in front of every record this build stores. Version 1 was
/// written by builds before the alerting work (no request options, no TLS days, no
/// transition numbers); version 2 by builds before user-marked secrets (a monitor without
/// `secret_headers` and `secret_body`); version 3 by builds before zoned monitors (a monitor
/// without `zones` and `quorum`, a result without `zone`, a transition without the zones
/// down); version 4 by builds before status pages and repeat alerts (a monitor without
/// `public_badges` and `repeat_every_secs`); see `docs/storage-formats.md`.
pub const RECORD_VERSION: u8 = 5;

/// The oldest record version any stored type still has the layout of.
pub const OLDEST_CURRENT_LAYOUT: u8 = 2;

/// A type stored as a record: [`encode_record`] writes it at [`RECORD_VERSION`], and
/// [`decode_record`] reads it from any version since `LAYOUT_SINCE`, the version in which its
/// layout last changed. A type whose layout changes moves its `LAYOUT_SINCE` to the new
/// [`RECORD_VERSION`] and gets a migration step from the older layout.
pub trait Record: Serialize + DeserializeOwned {
    /// The first record version laid out like this type is today.
    const LAYOUT_SINCE: u8 = OLDEST_CURRENT_LAYOUT;
}

/// Why bytes could not be turned back into a value. Never fatal to the caller's process.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("empty record")]
    Empty,
    #[error("unsupported format version {found} (expected version {expected})")]
    Version { found: u8, expected: u8 },
    #[error("malformed record: {0}")]
    Malformed(String),
}

/// Encodes a peer message as `[WIRE_VERSION, postcard bytes...]`.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    encode_as(WIRE_VERSION, value)
}

/// Decodes a peer message produced by [`encode`]. Trailing bytes are refused as malformed.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    decode_as(WIRE_VERSION, bytes)
}

/// Encodes a stored record as `[RECORD_VERSION, postcard bytes...]`.
pub fn encode_record<T: Serialize>(value: &T) -> Vec<u8> {
    encode_as(RECORD_VERSION, value)
}

/// Decodes a stored record whose version has `T`'s current layout ([`Record::LAYOUT_SINCE`]
/// up to [`RECORD_VERSION`]).
pub fn decode_record<T: Record>(bytes: &[u8]) -> Result<T, DecodeError> {
    match version_of(bytes) {
        Some(v) if (T::LAYOUT_SINCE..RECORD_VERSION).contains(&v) => decode_as(v, bytes),
        _ => decode_as(RECORD_VERSION, bytes),
    }
}

/// The version byte of an encoded record or message, `None` for empty bytes.
pub fn version_of(bytes: &[u8]) -> Option<u8> {
    bytes.first().copied()
}

/// The length of `value` as [`encode`] or [`encode_record`] would write it (version byte
/// included), without building the bytes.
pub fn encoded_len<T: Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    postcard::to_io(value, &mut count).expect("postcard encoding of proto types is infallible");
    1 + count.0
}

/// Splits `items` into consecutive runs whose encodings add up to at most `max_bytes` each
/// (an item larger than that alone makes a run of one), for messages that must stay under a
/// frame size whatever their items weigh.
pub fn chunks_by_size<T: Serialize>(items: &[T], max_bytes: usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let len = encoded_len(item);
        if i > start && bytes + len > max_bytes {
            out.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += len;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// Encodes `value` as `[version, postcard bytes...]`. Besides [`encode`] and
/// [`encode_record`], only tests and migrations name a version themselves.
pub fn encode_as<T: Serialize>(version: u8, value: &T) -> Vec<u8> {
    let mut out = vec![version];
    // Serialising our own plain data types into a Vec cannot fail: postcard errors only on
    // unsupported serde features (none used) or a full fixed buffer (not used here).
    postcard::to_io(value, &mut out).expect("postcard encoding of proto types is infallible");
    out
}

/// Decodes bytes that must carry version `expected`, as a `T` laid out in that version (a
/// migration passes an older version and the frozen type of that version).
pub fn decode_as<T: DeserializeOwned>(expected: u8, bytes: &[u8]) -> Result<T, DecodeError> {
    let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
    if version != expected {
        return Err(DecodeError::Version {
            found: version,
            expected,
        });
    }
    let (value, rest) =
        postcard::take_from_bytes(body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(DecodeError::Malformed(format!(
            "{} trailing bytes",
            rest.len()
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ErrorKind, Monitor, ProbeResult};

    fn sample_result() -> ProbeResult {
        ProbeResult {
            monitor_id: "m-1".into(),
            at_ms: 1_700_000_000_000,
            ok: false,
            status_code: Some(503),
            latency_ms: 12,
            error: Some("status 503".into()),
            error_kind: Some(ErrorKind::BadStatus),
            node: "n1".into(),
            tls_days_left: None,
            zone: String::new(),
        }
    }

    #[test]
    fn encoded_len_is_the_length_of_the_encoding() {
        let r = sample_result();
        assert_eq!(encoded_len(&r), encode(&r).len());
        assert_eq!(encoded_len(&r), encode_record(&r).len());
    }

    #[test]
    fn chunks_by_size_keep_every_item_in_order_and_under_the_limit() {
        let items: Vec<String> = (0..100).map(|i| "x".repeat(i * 10)).collect();
        let chunks = chunks_by_size(&items, 2_000);
        assert_eq!(chunks.concat(), items);
        for c in &chunks {
            let bytes: usize = c.iter().map(encoded_len).sum();
            assert!(
                bytes <= 2_000 || c.len() == 1,
                "{bytes} bytes in {}",
                c.len()
            );
        }
        // One item over the limit goes alone; nothing is empty.
        let big = vec!["a".to_owned(), "b".repeat(5_000), "c".to_owned()];
        let chunks = chunks_by_size(&big, 1_000);
        assert_eq!(
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>(),
            [1, 1, 1]
        );
        assert!(chunks_by_size::<String>(&[], 10).is_empty());
    }

    #[test]
    fn round_trips() {
        let r = sample_result();
        assert_eq!(decode::<ProbeResult>(&encode(&r)), Ok(r));
        let m = Monitor::new("m-2".into(), "http://127.0.0.1/".into());
        assert_eq!(decode::<Monitor>(&encode(&m)), Ok(m.clone()));
        assert_eq!(decode_record::<Monitor>(&encode_record(&m)), Ok(m));
    }

    #[test]
    fn records_and_messages_check_their_own_version() {
        // A state's layout is that of version 2: a version 2 record reads as it is.
        let s = crate::MonitorState {
            status: crate::Status::Down,
            failures: 2,
            successes: 0,
            since_ms: 9,
            seq: 4,
        };
        let old = encode_as(OLDEST_CURRENT_LAYOUT, &s);
        assert_eq!(version_of(&old), Some(OLDEST_CURRENT_LAYOUT));
        assert_eq!(decode_record::<crate::MonitorState>(&old), Ok(s.clone()));
        // A result's changed in version 4: a version 3 one is refused.
        let r = sample_result();
        assert_eq!(
            decode_record::<ProbeResult>(&encode_as(RECORD_VERSION - 1, &r)),
            Err(DecodeError::Version {
                found: RECORD_VERSION - 1,
                expected: RECORD_VERSION
            })
        );
        // A monitor's changed in version 4: an older one is refused (the migration reads it).
        let m = Monitor::new("m-2".into(), "http://127.0.0.1/".into());
        assert_eq!(<Monitor as Record>::LAYOUT_SINCE, RECORD_VERSION);
        let old = encode_as(RECORD_VERSION - 1, &m);
        assert_eq!(
            decode_record::<Monitor>(&old),
            Err(DecodeError::Version {
                found: RECORD_VERSION - 1,
                expected: RECORD_VERSION
            })
        );
        // Nothing reads a version below the oldest current layout, nor above this build's.
        for v in [OLDEST_CURRENT_LAYOUT - 1, RECORD_VERSION + 1] {
            let bytes = encode_as(v, &sample_result());
            assert_eq!(
                decode_record::<ProbeResult>(&bytes),
                Err(DecodeError::Version {
                    found: v,
                    expected: RECORD_VERSION
                })
            );
        }
        assert_eq!(version_of(&[]), None);
    }

    #[test]
    fn error_kind_names_match_json() {
        use crate::ErrorKind::*;
        for k in [
            Dns, Refused, Timeout, Tls, Redirects, BadStatus, Assertion, Protocol, Other,
        ] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }

    #[test]
    fn refuses_unknown_version_and_trailing_bytes() {
        let mut bytes = encode(&sample_result());
        bytes[0] = 9;
        assert_eq!(
            decode::<ProbeResult>(&bytes),
            Err(DecodeError::Version {
                found: 9,
                expected: WIRE_VERSION
            })
        );
        let mut bytes = encode(&sample_result());
        bytes.push(0);
        assert!(matches!(
            decode::<ProbeResult>(&bytes),
            Err(DecodeError::Malformed(_))
        ));
        assert_eq!(decode::<ProbeResult>(&[]), Err(DecodeError::Empty));
    }

    /// Random and truncated bytes never panic any decoder.
    #[test]
    fn garbage_never_panics() {
        use rand::{Rng, SeedableRng, rngs::StdRng};
        let mut rng = StdRng::seed_from_u64(7);
        let from = crate::MemberInfo {
            name: "n1".into(),
            incarnation: 1,
            cluster: "127.0.0.1:1".into(),
            http: "127.0.0.1:2".into(),
            zone: "default".into(),
        };
        let envelope = crate::Envelope {
            body: crate::PeerMsg::Heartbeat {
                members: vec![from.clone()],
                acks: vec![("n2".into(), 7)],
            },
            from,
        };
        let valid = [
            encode(&envelope),
            encode(&sample_result()),
            encode(&Monitor::new("m".into(), "https://a.example/".into())),
        ];
        for round in 0..20_000 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                let len = rng.random_range(0..64);
                (0..len).map(|_| rng.random()).collect()
            } else {
                let src = &valid[round % valid.len()];
                let mut b = src[..rng.random_range(0..=src.len())].to_vec();
                if !b.is_empty() {
                    let i = rng.random_range(0..b.len());
                    b[i] ^= rng.random::<u8>();
                }
                b
            };
            let _ = decode::<ProbeResult>(&bytes);
            let _ = decode::<Monitor>(&bytes);
            let _ = decode::<crate::MonitorState>(&bytes);
            let _ = decode::<crate::Envelope>(&bytes);
            let _ = decode_record::<crate::Transition>(&bytes);
        }
    }
}
