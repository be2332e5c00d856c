//! The binary record format: one version byte, then postcard.
//!
//! postcard is not self-describing, so the version byte is what lets a later release read
//! (or refuse, with a clear error) records and messages written by an earlier one. We use
//! postcard rather than bincode: bincode's last release (3.0.0) is a `compile_error!` and the
//! crate is unmaintained (RUSTSEC-2025-0141).

use serde::{Serialize, de::DeserializeOwned};

/// The version byte written in front of every record and message this build produces.
pub const FORMAT_VERSION: u8 = 2;

/// Why bytes could not be turned back into a value. Never fatal to the caller's process.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("empty record")]
    Empty,
    #[error("unsupported format version {found} (this build reads version {FORMAT_VERSION})")]
    Version { found: u8 },
    #[error("malformed record: {0}")]
    Malformed(String),
}

/// Encodes `value` as `[FORMAT_VERSION, postcard bytes...]`.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    // Serialising our own plain data types into a Vec cannot fail: postcard errors only on
    // unsupported serde features (none used) or a full fixed buffer (not used here).
    postcard::to_io(value, &mut out).expect("postcard encoding of proto types is infallible");
    out
}

/// Decodes bytes produced by [`encode`]. Trailing bytes are refused as malformed.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::Version { found: version });
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
        }
    }

    #[test]
    fn round_trips() {
        let r = sample_result();
        assert_eq!(decode::<ProbeResult>(&encode(&r)), Ok(r));
        let m = Monitor::new("m-2".into(), "http://127.0.0.1/".into());
        assert_eq!(decode::<Monitor>(&encode(&m)), Ok(m));
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
            Err(DecodeError::Version { found: 9 })
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
        }
    }
}
