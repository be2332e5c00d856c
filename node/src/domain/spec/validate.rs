//! Validation of a definition made by a create or a patch: ranges, sizes, header syntax, URL
//! schemes, and assertions that fit the kind of check.

use reqwest::header::{HeaderName, HeaderValue};
use ringwatch_proto::{DEFAULT_METHOD, Monitor, encoded_len};

use crate::domain::address::is_unprintable;

use super::{
    MANAGED_HEADERS, MAX_DEFINITION_BYTES, MAX_EXPECT_BYTES, MAX_HEADER_NAME_BYTES,
    MAX_HEADER_VALUE_BYTES, MAX_HEADERS, MAX_INTERVAL_SECS, MAX_NAME_CHARS, MAX_NOTIFIER_ID_CHARS,
    MAX_NOTIFIERS, MAX_REQUEST_BODY_BYTES, MAX_THRESHOLD, MAX_TIMEOUT_MS, MAX_TLS_MIN_DAYS,
    MAX_URL_LEN, METHODS, SpecError,
};

pub(super) fn range(name: &str, v: u64, lo: u64, hi: u64) -> Result<(), SpecError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(SpecError::new(format!(
            "{name} must be between {lo} and {hi}, got {v}"
        )))
    }
}

/// Checks every field of `m`; the error says what is wrong with the first bad one.
pub fn validate(m: &Monitor) -> Result<(), SpecError> {
    let scheme = validate_url(&m.url)?;
    validate_numbers(m)?;
    validate_texts(m)?;
    validate_request(m)?;
    validate_notifiers(m.notifiers.as_deref())?;
    validate_zones(m)?;
    validate_kind(m, &scheme)?;
    validate_size(m)
}

/// The size of `m` as stored and replicated, without its id, revision and creation time (set
/// by the node, not the request): the same for the API's input and for the record a peer
/// sends, so what one node accepts no other refuses.
pub fn definition_bytes(m: &Monitor) -> usize {
    let body = |n: usize| n - 1; // encoded_len counts the version byte
    encoded_len(m)
        - body(encoded_len(&m.id))
        - body(encoded_len(&m.rev))
        - body(encoded_len(&m.created_ms))
}

fn validate_size(m: &Monitor) -> Result<(), SpecError> {
    let bytes = definition_bytes(m);
    if bytes > MAX_DEFINITION_BYTES {
        return Err(SpecError::new(format!(
            "the monitor is {bytes} bytes encoded (URL, headers, body, assertions and all); \
             at most {MAX_DEFINITION_BYTES} are accepted, so that it replicates: shorten its \
             headers or body"
        )));
    }
    Ok(())
}

fn validate_numbers(m: &Monitor) -> Result<(), SpecError> {
    range("interval_secs", m.interval_secs, 1, MAX_INTERVAL_SECS)?;
    range("timeout_ms", m.timeout_ms, 1, MAX_TIMEOUT_MS)?;
    let t = u64::from(MAX_THRESHOLD);
    range("failure_threshold", m.failure_threshold.into(), 1, t)?;
    range("recovery_threshold", m.recovery_threshold.into(), 1, t)?;
    if let Some(ms) = m.max_response_ms {
        range("max_response_ms", ms, 1, MAX_TIMEOUT_MS)?;
    }
    if let Some(days) = m.tls_min_days {
        range("tls_min_days", days.into(), 0, MAX_TLS_MIN_DAYS)?;
    }
    Ok(())
}

fn validate_texts(m: &Monitor) -> Result<(), SpecError> {
    let chars = m.name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(SpecError::new(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if let Some(c) = m.name.chars().find(|c| is_unprintable(*c)) {
        return Err(SpecError::new(format!(
            "name must not contain control or invisible characters, found U+{:04X}",
            u32::from(c)
        )));
    }
    for (field, text) in [
        ("expect_body_contains", &m.expect_body_contains),
        ("expect_body_not_contains", &m.expect_body_not_contains),
    ] {
        if text.as_ref().is_some_and(|t| t.len() > MAX_EXPECT_BYTES) {
            return Err(SpecError::new(format!(
                "{field} must be at most {MAX_EXPECT_BYTES} bytes"
            )));
        }
    }
    if m.expect_body_not_contains.as_deref() == Some("") {
        return Err(SpecError::new(
            "expect_body_not_contains must not be empty: every body contains the empty text",
        ));
    }
    Ok(())
}

/// Method, headers and body of the check request.
fn validate_request(m: &Monitor) -> Result<(), SpecError> {
    if !METHODS.contains(&m.method.as_str()) {
        return Err(SpecError::new(format!(
            "method must be one of {}, got {:?}",
            METHODS.join(", "),
            m.method
        )));
    }
    if m.headers.len() > MAX_HEADERS {
        return Err(SpecError::new(format!(
            "at most {MAX_HEADERS} headers, got {}",
            m.headers.len()
        )));
    }
    for (i, (name, value)) in m.headers.iter().enumerate() {
        validate_header(name, value)?;
        if m.headers[..i]
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Err(SpecError::new(format!("headers: {name:?} is given twice")));
        }
    }
    validate_secret_headers(&m.secret_headers)?;
    if m.body
        .as_ref()
        .is_some_and(|b| b.len() > MAX_REQUEST_BODY_BYTES)
    {
        return Err(SpecError::new(format!(
            "body must be at most {MAX_REQUEST_BODY_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Names of headers marked secret: header names, each once. A name the monitor does not send
/// (yet) is allowed: the mark applies when it does.
fn validate_secret_headers(names: &[String]) -> Result<(), SpecError> {
    let bad = |what: String| Err(SpecError::new(format!("secret_headers: {what}")));
    if names.len() > MAX_HEADERS {
        return bad(format!("at most {MAX_HEADERS} names, got {}", names.len()));
    }
    for (i, name) in names.iter().enumerate() {
        if name.len() > MAX_HEADER_NAME_BYTES || HeaderName::from_bytes(name.as_bytes()).is_err() {
            return bad(format!("{name:?} is not a valid header name"));
        }
        if names[..i].iter().any(|n| n.eq_ignore_ascii_case(name)) {
            return bad(format!("{name:?} is given twice"));
        }
    }
    Ok(())
}

fn validate_header(name: &str, value: &str) -> Result<(), SpecError> {
    let bad = |what: String| Err(SpecError::new(format!("headers: {what}")));
    if name.len() > MAX_HEADER_NAME_BYTES || HeaderName::from_bytes(name.as_bytes()).is_err() {
        return bad(format!("{name:?} is not a valid header name"));
    }
    if MANAGED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return bad(format!("{name} is set by the prober itself"));
    }
    if value.len() > MAX_HEADER_VALUE_BYTES {
        return bad(format!(
            "the value of {name} must be at most {MAX_HEADER_VALUE_BYTES} bytes"
        ));
    }
    if HeaderValue::from_str(value).is_err() {
        return bad(format!(
            "the value of {name} is not a valid header value (no control characters or line breaks)"
        ));
    }
    Ok(())
}

/// Shape only: whether the ids name existing notifiers is not checked here.
fn validate_notifiers(ids: Option<&[String]>) -> Result<(), SpecError> {
    let Some(ids) = ids else {
        return Ok(());
    };
    if ids.len() > MAX_NOTIFIERS {
        return Err(SpecError::new(format!(
            "notifiers: at most {MAX_NOTIFIERS} ids, got {}",
            ids.len()
        )));
    }
    let bad_id = |id: &String| id.trim().is_empty() || id.chars().count() > MAX_NOTIFIER_ID_CHARS;
    if let Some(id) = ids.iter().find(|id| bad_id(id)) {
        return Err(SpecError::new(format!(
            "notifiers: {id:?} is not a notifier id (1 to {MAX_NOTIFIER_ID_CHARS} characters)"
        )));
    }
    Ok(())
}

/// Zones a monitor may be probed from, at most.
pub const MAX_ZONES: usize = 32;

/// `zones` names plain zone names (at least one, at most [`MAX_ZONES`]); `quorum` needs
/// `zones` and is at most the zones listed.
fn validate_zones(m: &Monitor) -> Result<(), SpecError> {
    use crate::domain::names::{PLAIN_NAME_RULE, is_plain_name};
    let listed = match &m.zones {
        None if m.quorum.is_some() => {
            return Err(SpecError::new(
                "quorum needs zones: set zones to \"all\" or a list of zone names",
            ));
        }
        None | Some(ringwatch_proto::Zones::All) => None,
        Some(ringwatch_proto::Zones::Only(names)) => Some(names),
    };
    if let Some(names) = listed {
        if names.is_empty() || names.len() > MAX_ZONES {
            return Err(SpecError::new(format!(
                "zones: 1 to {MAX_ZONES} zone names, got {}",
                names.len()
            )));
        }
        if let Some(bad) = names.iter().find(|z| !is_plain_name(z)) {
            return Err(SpecError::new(format!(
                "zones: {bad:?} is not a zone name ({PLAIN_NAME_RULE})"
            )));
        }
    }
    if let Some(q) = m.quorum {
        let most = listed.map_or(MAX_ZONES, Vec::len);
        range("quorum", u64::from(q), 1, most as u64)?;
    }
    Ok(())
}

/// Refuses assertions that the kind of check (`scheme`) cannot make.
fn validate_kind(m: &Monitor, scheme: &str) -> Result<(), SpecError> {
    let http_only = [
        ("expect_status", !m.expect_status.is_empty()),
        ("expect_body_contains", m.expect_body_contains.is_some()),
        (
            "expect_body_not_contains",
            m.expect_body_not_contains.is_some(),
        ),
        ("method", m.method != DEFAULT_METHOD),
        ("headers", !m.headers.is_empty()),
        ("secret_headers", !m.secret_headers.is_empty()),
        ("body", m.body.is_some()),
        ("secret_body", m.secret_body),
        ("tls_skip_verify", m.tls_skip_verify),
    ];
    if scheme == "tcp"
        && let Some((field, _)) = http_only.iter().find(|(_, set)| *set)
    {
        return Err(SpecError::new(format!(
            "{field} applies to http(s) monitors, not to tcp:// checks"
        )));
    }
    if m.tls_min_days.is_some() && scheme != "https" {
        return Err(SpecError::new(
            "tls_min_days applies to https:// monitors only",
        ));
    }
    Ok(())
}

/// Checks an http(s) or `tcp://host:port` URL; answers its scheme.
fn validate_url(url: &str) -> Result<String, SpecError> {
    if url.len() > MAX_URL_LEN {
        return Err(SpecError::new(format!(
            "url is longer than {MAX_URL_LEN} characters"
        )));
    }
    // The URL parser would silently drop tabs and line breaks; refuse them instead.
    if let Some(c) = url.chars().find(|c| is_unprintable(*c)) {
        return Err(SpecError::new(format!(
            "url must not contain control or invisible characters, found U+{:04X}",
            u32::from(c)
        )));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| {
        let shown = super::super::secret::redact_url(url);
        SpecError::new(format!("url {shown:?} is not a valid URL: {e}"))
    })?;
    if !matches!(parsed.scheme(), "http" | "https" | "tcp") {
        return Err(SpecError::new(format!(
            "url must start with http://, https:// or tcp://, got scheme {:?}",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(SpecError::new("url has no host"));
    }
    if parsed.scheme() == "tcp" {
        validate_tcp_url(url, &parsed)?;
    }
    Ok(parsed.scheme().to_owned())
}

fn validate_tcp_url(url: &str, parsed: &reqwest::Url) -> Result<(), SpecError> {
    let example = "like tcp://db.example.com:5432";
    if !url.starts_with("tcp://") {
        return Err(SpecError::new(format!(
            "write a tcp url in lower case, {example}"
        )));
    }
    if parsed.port().is_none_or(|p| p == 0) {
        return Err(SpecError::new(format!(
            "a tcp:// url needs a port, {example}"
        )));
    }
    let extra = !matches!(parsed.path(), "" | "/")
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some();
    if extra {
        return Err(SpecError::new(format!(
            "a tcp:// url is a host and a port only, {example}"
        )));
    }
    Ok(())
}
