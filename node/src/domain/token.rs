//! API tokens: the secret's format, its hash, what a request needs, and what a token may be.
//!
//! A secret reads `rw_<16 hex: the id part>_<64 hex: 32 random bytes>`. The prefix makes a
//! leaked one recognisable (secret scanners, logs); the id part finds the stored record in one
//! lookup (the record's id is `t-<id part>`), so checking a token costs one map read and one
//! SHA-256, whatever the number of tokens. Only the hash is stored and replicated; the secret
//! is shown once, to whoever made it. Tokens are 256 random bits, so a fast hash is enough (no
//! password stretching): nobody can guess their way back from it.
//!
//! The rule of which scope a request needs ([`required_scope`]) is written here once; the API's
//! guard and the OpenAPI document both ask it.

use std::fmt;

use rand::TryRngCore;
use ringwatch_proto::Scope;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "rw_";
/// Hex digits of the id part of a secret.
const ID_HEX: usize = 16;
/// Hex digits of the random part of a secret (32 bytes).
const RANDOM_HEX: usize = 64;
/// Shortest bootstrap admin token accepted from the config (anything shorter is guessable).
pub const MIN_ADMIN_TOKEN_CHARS: usize = 20;
/// Longest token name; longer ones are refused with 400.
pub const MAX_NAME_CHARS: usize = 100;

/// A secret: shown by nothing, not even `Debug` (configs and contexts are debug-printed).
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    /// The secret itself: only for sending it (an `Authorization` header) or showing it once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// SHA-256 of a secret: what is stored and compared.
pub type TokenHash = [u8; 32];

/// The hash of `secret`.
pub fn hash(secret: &str) -> TokenHash {
    Sha256::digest(secret.as_bytes()).into()
}

/// Whether two hashes are equal, in time that does not depend on where they differ.
pub fn same_hash(a: &TokenHash, b: &TokenHash) -> bool {
    a.ct_eq(b).into()
}

/// A fresh token: its record id and its secret. Both come from the operating system's RNG.
pub fn generate() -> Result<(String, Secret), rand::rand_core::OsError> {
    let mut id = [0u8; ID_HEX / 2];
    let mut random = [0u8; RANDOM_HEX / 2];
    rand::rngs::OsRng.try_fill_bytes(&mut id)?;
    rand::rngs::OsRng.try_fill_bytes(&mut random)?;
    let id = hex(&id);
    let secret = format!("{SECRET_PREFIX}{id}_{}", hex(&random));
    Ok((format!("t-{id}"), Secret(secret)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The record id a secret names (`t-<id part>`), if it has the format of one.
pub fn record_id(secret: &str) -> Option<String> {
    let rest = secret.strip_prefix(SECRET_PREFIX)?;
    let (id, random) = rest.split_once('_')?;
    let lower_hex = |s: &str, n: usize| {
        s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    (lower_hex(id, ID_HEX) && lower_hex(random, RANDOM_HEX)).then(|| format!("t-{id}"))
}

/// The token of an `Authorization` header value (`Bearer <token>`, scheme in any case).
pub fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The scope a request needs when auth is on; `None`: anyone may ask (`/healthz`, the
/// dashboard's own files, and `/api/session`, where the dashboard logs in and out and which
/// checks the token it is given itself). Every `/api` path and `/metrics` need at least `read`; a change
/// (any method but GET and HEAD) needs `write`; tokens, and the test-only fault injection,
/// need `admin`. Paths are compared by their non-empty segments, so `//api/tokens` is ruled
/// like `/api/tokens` whatever the router makes of it.
pub fn required_scope(method: &str, path: &str) -> Option<Scope> {
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    match (segments.next(), segments.next()) {
        (Some("api"), Some("tokens" | "debug")) => return Some(Scope::Admin),
        (Some("api"), Some("session")) => return None,
        (Some("api" | "metrics"), _) => {}
        _ => return None,
    }
    let reads = method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD");
    Some(if reads { Scope::Read } else { Scope::Write })
}

/// A scope by its name.
pub fn parse_scope(text: &str) -> Result<Scope, String> {
    match text {
        "read" => Ok(Scope::Read),
        "write" => Ok(Scope::Write),
        "admin" => Ok(Scope::Admin),
        other => Err(format!("scope must be read, write or admin, not {other:?}")),
    }
}

/// Checks a token's name: 1 to [`MAX_NAME_CHARS`] characters, no control characters.
pub fn validate_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if name.trim().is_empty() || chars > MAX_NAME_CHARS {
        return Err(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters, not blank"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    Ok(())
}

/// Checks a bootstrap admin token from the config: long enough, printable, no spaces (it goes
/// into an HTTP header as it is).
pub fn validate_admin_token(secret: &Secret) -> Result<(), String> {
    let text = secret.expose();
    if text.chars().count() < MIN_ADMIN_TOKEN_CHARS {
        return Err(format!(
            "the admin token must be at least {MIN_ADMIN_TOKEN_CHARS} characters \
             (e.g. `openssl rand -hex 32`)"
        ));
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("the admin token must be printable ASCII without spaces".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_names_its_record_and_hashes_to_itself() {
        let (id, secret) = generate().unwrap();
        let text = secret.expose();
        assert!(text.starts_with("rw_"), "{text}");
        assert_eq!(text.len(), 3 + ID_HEX + 1 + RANDOM_HEX);
        assert_eq!(record_id(text).as_deref(), Some(id.as_str()));
        assert!(same_hash(&hash(text), &hash(text)));
        let (other_id, other) = generate().unwrap();
        assert_ne!((id, text), (other_id, other.expose()));
        assert!(!same_hash(&hash(text), &hash(other.expose())));
    }

    #[test]
    fn only_well_formed_secrets_name_a_record() {
        let good = format!("rw_{}_{}", "0a".repeat(8), "f1".repeat(32));
        assert_eq!(record_id(&good), Some(format!("t-{}", "0a".repeat(8))));
        let bad = [
            String::new(),
            "rw_".into(),
            good.replacen("rw_", "rx_", 1),
            good.to_uppercase(),
            format!("{good}0"),
            good[..good.len() - 1].to_owned(),
            good.replacen('_', "-", 2),
            format!("rw_{}_{}", "0a".repeat(8), "g1".repeat(32)),
            format!("rw_{}__{}", "0a".repeat(8), "f1".repeat(32)),
        ];
        for text in bad {
            assert_eq!(record_id(&text), None, "{text:?}");
        }
    }

    #[test]
    fn the_debug_form_of_a_secret_shows_nothing() {
        let s = Secret::new("rw_topsecret");
        assert_eq!(format!("{s:?}"), "Secret(..)");
        assert!(!format!("{:?}", Some(s)).contains("topsecret"));
    }

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }

    #[test]
    fn scopes_are_ordered_and_parsed() {
        assert!(Scope::Read < Scope::Write && Scope::Write < Scope::Admin);
        for s in [Scope::Read, Scope::Write, Scope::Admin] {
            assert_eq!(parse_scope(s.as_str()), Ok(s));
        }
        assert!(
            parse_scope("root")
                .unwrap_err()
                .contains("read, write or admin")
        );
    }

    #[test]
    fn each_request_needs_its_scope() {
        let cases = [
            ("GET", "/healthz", None),
            ("GET", "/", None),
            ("GET", "/app.js", None),
            ("GET", "/apis", None),
            ("GET", "/metrics", Some(Scope::Read)),
            ("GET", "/api/monitors", Some(Scope::Read)),
            ("HEAD", "/api/monitors", Some(Scope::Read)),
            ("GET", "/api/events", Some(Scope::Read)),
            ("GET", "/api/openapi.json", Some(Scope::Read)),
            ("GET", "/api/nonexistent", Some(Scope::Read)),
            ("POST", "/api/monitors", Some(Scope::Write)),
            ("PATCH", "/api/monitors/m-1", Some(Scope::Write)),
            ("DELETE", "/api/monitors/m-1", Some(Scope::Write)),
            ("POST", "/api/monitors/m-1/check", Some(Scope::Write)),
            ("POST", "/api/notifiers", Some(Scope::Write)),
            ("DELETE", "/api/notifiers/n-1", Some(Scope::Write)),
            ("GET", "/api/tokens", Some(Scope::Admin)),
            ("POST", "/api/tokens", Some(Scope::Admin)),
            ("DELETE", "/api/tokens/t-1", Some(Scope::Admin)),
            ("POST", "/api/debug/partition", Some(Scope::Admin)),
            ("GET", "/api/tokensx", Some(Scope::Read)),
            ("GET", "//api//tokens/", Some(Scope::Admin)),
            ("POST", "/api//monitors", Some(Scope::Write)),
            ("GET", "//metrics", Some(Scope::Read)),
            ("GET", "/api", Some(Scope::Read)),
        ];
        for (method, path, want) in cases {
            assert_eq!(required_scope(method, path), want, "{method} {path}");
        }
    }

    #[test]
    fn names_and_admin_tokens_are_checked() {
        assert!(validate_name("ci deploys").is_ok());
        assert!(validate_name(" ").is_err());
        assert!(validate_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(validate_name("a\nb").is_err());
        assert!(validate_admin_token(&Secret::new("x".repeat(MIN_ADMIN_TOKEN_CHARS))).is_ok());
        assert!(validate_admin_token(&Secret::new("short")).is_err());
        assert!(validate_admin_token(&Secret::new(format!("{} x", "y".repeat(30)))).is_err());
    }
}
