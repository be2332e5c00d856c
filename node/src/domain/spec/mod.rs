//! The monitor spec: what a user writes to create or change a monitor, with its defaults
//! and validation. One type for every way in: the HTTP API (JSON), the config file
//! (`[[monitors]]` in TOML) and the CLI (which builds a [`MonitorInput`] and sends it).
//!
//! Validation errors are a [`SpecError`]; the API answers them with 400, the config file
//! refuses to start, the CLI shows the node's words. Nothing here does I/O.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use ringwatch_proto::{Monitor, StatusRange, Zones};

use super::secret;

pub use seed::{MonitorSeed, id_and_rest};
use validate::range;
pub use validate::{definition_bytes, validate};

mod seed;
mod validate;

/// A spec that cannot become a monitor; the text says what is wrong, for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

impl SpecError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        SpecError(message.into())
    }
}

/// Longest interval between probes: one day.
pub const MAX_INTERVAL_SECS: u64 = 86_400;
/// Longest probe timeout: five minutes. Also the largest `max_response_ms`.
pub const MAX_TIMEOUT_MS: u64 = 300_000;
/// Largest failure or recovery threshold.
pub const MAX_THRESHOLD: u32 = 100;
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest body assertion text (contains or not contains), in bytes.
pub const MAX_EXPECT_BYTES: usize = 1024;
/// HTTP methods a check may use.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
/// Most request headers per monitor.
pub const MAX_HEADERS: usize = 50;
/// Longest request header name, in bytes.
pub const MAX_HEADER_NAME_BYTES: usize = 256;
/// Longest request header value, in bytes.
pub const MAX_HEADER_VALUE_BYTES: usize = 4096;
/// Request headers the prober sets itself (framing and connection handling); refused.
pub const MANAGED_HEADERS: [&str; 7] = [
    "connection",
    "content-length",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
];
/// Largest request body, in bytes.
pub const MAX_REQUEST_BODY_BYTES: usize = 64 * 1024;
/// Largest `tls_min_days`: ten years.
pub const MAX_TLS_MIN_DAYS: u64 = 3650;
/// Longest `repeat_every`: 30 days.
pub const MAX_REPEAT_EVERY_SECS: u64 = 30 * 24 * 3600;
/// Largest definition, in bytes as stored and replicated (postcard), not counting its id and
/// revision: what keeps every definition, and so every frame of them, far below the peer
/// transport's frame limit, whatever the API was sent. Each field's own limit (a 64 KiB
/// request body, 50 headers of 4 KiB) still fits alone; all of them at their largest do not.
/// Every kind of replicated definition is held to it (`state::table`).
pub const MAX_DEFINITION_BYTES: usize = 128 * 1024;
/// Most notifier ids per monitor.
pub const MAX_NOTIFIERS: usize = 50;
/// Longest notifier id, in characters.
pub const MAX_NOTIFIER_ID_CHARS: usize = 100;

/// An accepted-status entry: `200` or `"200-299"`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum StatusSpec {
    /// One status code, 100-599.
    Code(i64),
    /// A range of status codes, `"FROM-TO"`.
    Text(String),
}

/// Request headers: a JSON object of header name to string value, kept in the order read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderList(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for HeaderList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = HeaderList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of header names to string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderList, A::Error> {
                let mut headers = Vec::new();
                while let Some(entry) = map.next_entry::<String, String>()? {
                    headers.push(entry);
                }
                Ok(HeaderList(headers))
            }
        }
        d.deserialize_map(ListVisitor)
    }
}

impl Serialize for HeaderList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The body of `POST /api/monitors` (one element of it, for bulk). Missing fields take their
/// defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorInput {
    /// `http://` or `https://` with a host, or `tcp://host:port`; at most 2048 bytes.
    pub url: String,
    /// 1-200 characters; default: the URL.
    pub name: Option<String>,
    /// Seconds between probes, 1-86400; default 30.
    pub interval_secs: Option<u64>,
    /// Probe timeout in milliseconds, 1-300000; default 10000.
    pub timeout_ms: Option<u64>,
    /// `false` pauses probing; default `true`.
    pub active: Option<bool>,
    /// Consecutive failed probes before the monitor is down, 1-100; default 2.
    pub failure_threshold: Option<u32>,
    /// Consecutive good probes before it is up again, 1-100; default 1.
    pub recovery_threshold: Option<u32>,
    /// Accepted status codes and ranges; default 200-399.
    pub expect_status: Option<Vec<StatusSpec>>,
    /// Text the body must contain, at most 1024 bytes.
    pub expect_body_contains: Option<String>,
    /// Text the body must not contain, 1-1024 bytes.
    pub expect_body_not_contains: Option<String>,
    /// A slower answer fails the probe, 1-300000 ms.
    pub max_response_ms: Option<u64>,
    /// GET (default), HEAD, POST, PUT, PATCH, DELETE or OPTIONS.
    pub method: Option<String>,
    /// Request headers, at most 50; framing headers (Content-Length, Connection...) are refused.
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub headers: Option<HeaderList>,
    /// Names of headers whose values are secret (shown as `***`), besides `Authorization`,
    /// `Cookie` and names containing `token`, `key`, `secret`, `password`, `auth`...; at most 50.
    pub secret_headers: Option<Vec<String>>,
    /// Request body, at most 64 KiB.
    pub body: Option<String>,
    /// The body is a secret, shown as `***`; default `false`.
    pub secret_body: Option<bool>,
    /// https only: fewer days than this before the certificate expires fails the probe, 0-3650.
    pub tls_min_days: Option<u64>,
    /// Accept certificates that do not verify; default `false`.
    pub tls_skip_verify: Option<bool>,
    /// Notifier ids to alert; missing or `null` means every notifier.
    pub notifiers: Option<Vec<String>>,
    /// Where it is probed: missing or `null` once in the cluster; `"all"` from every zone; or
    /// a list of zone names (at most 32).
    #[schema(value_type = Option<Object>)]
    pub zones: Option<ZonesSpec>,
    /// With `zones`: how many zones must see it down for it to be down, 1-32; default a
    /// majority of its reachable zones.
    pub quorum: Option<u32>,
    /// Its badges are public even when no public status page shows it; default `false`.
    pub public_badges: Option<bool>,
    /// While it stays down, a reminder is sent at this period (`30m`, `1h`, `1d`: whole
    /// seconds from 1 s to 30 days); missing or `null`: no reminders.
    pub repeat_every: Option<String>,
}

/// `zones` as users write it: `"all"` or a list of zone names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ZonesSpec {
    Word(String),
    List(Vec<String>),
}

impl ZonesSpec {
    /// The stored form: `All`, or the names sorted without repeats.
    fn into_zones(self) -> Result<Zones, SpecError> {
        match self {
            ZonesSpec::Word(w) if w == "all" => Ok(Zones::All),
            ZonesSpec::Word(w) => Err(SpecError::new(format!(
                "zones must be \"all\" or a list of zone names, got {w:?}"
            ))),
            ZonesSpec::List(mut names) => {
                names.sort();
                names.dedup();
                Ok(Zones::Only(names))
            }
        }
    }

    /// How a stored `zones` is written back (config export, CLI).
    pub fn of(z: &Zones) -> Self {
        match z {
            Zones::All => ZonesSpec::Word("all".into()),
            Zones::Only(names) => ZonesSpec::List(names.clone()),
        }
    }
}

/// The body of `PATCH /api/monitors/{id}`: only the fields to change. `null` clears the
/// nullable ones (for `notifiers`: back to every notifier). A secret left out, or sent back
/// as `***` (a header value, the URL's password, a secret body), keeps its stored value.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitorPatch {
    pub url: Option<String>,
    pub name: Option<String>,
    pub interval_secs: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub active: Option<bool>,
    pub failure_threshold: Option<u32>,
    pub recovery_threshold: Option<u32>,
    #[serde(default, deserialize_with = "present")]
    pub expect_status: Option<Option<Vec<StatusSpec>>>,
    #[serde(default, deserialize_with = "present")]
    pub expect_body_contains: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub expect_body_not_contains: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub max_response_ms: Option<Option<u64>>,
    pub method: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub headers: Option<Option<HeaderList>>,
    #[serde(default, deserialize_with = "present")]
    pub secret_headers: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    pub body: Option<Option<String>>,
    pub secret_body: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub tls_min_days: Option<Option<u64>>,
    pub tls_skip_verify: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub notifiers: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub zones: Option<Option<ZonesSpec>>,
    #[serde(default, deserialize_with = "present")]
    pub quorum: Option<Option<u32>>,
    pub public_badges: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub repeat_every: Option<Option<String>>,
}

/// Tells a field given as `null` (Some(None)) from a missing one (None).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl MonitorInput {
    /// A validated definition (id, revision and timestamps are set by the catalog).
    pub fn into_monitor(self) -> Result<Monitor, SpecError> {
        let mut m = Monitor::new(String::new(), self.url.trim().to_owned());
        // The default name is the URL as shown, so it never carries the URL's password.
        m.name = super::secret::redact_url(&m.url).into_owned();
        MonitorPatch::from(self).apply(m)
    }
}

/// A create is a patch of a monitor with every field at its default.
impl From<MonitorInput> for MonitorPatch {
    fn from(i: MonitorInput) -> Self {
        MonitorPatch {
            url: None,
            name: i.name,
            interval_secs: i.interval_secs,
            timeout_ms: i.timeout_ms,
            active: i.active,
            failure_threshold: i.failure_threshold,
            recovery_threshold: i.recovery_threshold,
            expect_status: i.expect_status.map(Some),
            expect_body_contains: i.expect_body_contains.map(Some),
            expect_body_not_contains: i.expect_body_not_contains.map(Some),
            max_response_ms: i.max_response_ms.map(Some),
            method: i.method,
            headers: i.headers.map(Some),
            secret_headers: i.secret_headers.map(Some),
            body: i.body.map(Some),
            secret_body: i.secret_body,
            tls_min_days: i.tls_min_days.map(Some),
            tls_skip_verify: i.tls_skip_verify,
            notifiers: i.notifiers.map(Some),
            zones: i.zones.map(Some),
            quorum: i.quorum.map(Some),
            public_badges: i.public_badges,
            repeat_every: i.repeat_every.map(Some),
        }
    }
}

impl MonitorPatch {
    /// `m` with the patch applied, validated. A secret sent back redacted (the URL's
    /// password, a secret query value or header value given as `***`) keeps the stored one.
    pub fn apply(self, mut m: Monitor) -> Result<Monitor, SpecError> {
        let p = self;
        let url = p.url.map(|v| secret::restore_url(v.trim(), &m.url));
        set(&mut m.url, url);
        set(&mut m.name, p.name);
        set(&mut m.interval_secs, p.interval_secs);
        set(&mut m.timeout_ms, p.timeout_ms);
        set(&mut m.active, p.active);
        set(&mut m.failure_threshold, p.failure_threshold);
        set(&mut m.recovery_threshold, p.recovery_threshold);
        if let Some(v) = p.expect_status {
            m.expect_status = parse_statuses(v.unwrap_or_default())?;
        }
        set(&mut m.expect_body_contains, p.expect_body_contains);
        set(&mut m.expect_body_not_contains, p.expect_body_not_contains);
        set(&mut m.max_response_ms, p.max_response_ms);
        set(
            &mut m.method,
            p.method.map(|v| v.trim().to_ascii_uppercase()),
        );
        let headers = p
            .headers
            .map(|v| secret::restore_headers(v.unwrap_or_default().0, &m.headers));
        set(&mut m.headers, headers);
        set(
            &mut m.secret_headers,
            p.secret_headers.map(Option::unwrap_or_default),
        );
        let body = p.body.map(|b| secret::restore_body(b, &m));
        set(&mut m.body, body);
        set(&mut m.secret_body, p.secret_body);
        if let Some(v) = p.tls_min_days {
            m.tls_min_days = v.map(tls_min_days).transpose()?;
        }
        set(&mut m.tls_skip_verify, p.tls_skip_verify);
        set(&mut m.notifiers, p.notifiers);
        if let Some(z) = p.zones {
            m.zones = z.map(ZonesSpec::into_zones).transpose()?;
        }
        set(&mut m.quorum, p.quorum);
        set(&mut m.public_badges, p.public_badges);
        if let Some(v) = p.repeat_every {
            m.repeat_every_secs = v.as_deref().map(repeat_every).transpose()?;
        }
        validate(&m)?;
        Ok(m)
    }
}

/// Overwrites `field` with `value` if the request gave one.
fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *field = v;
    }
}

/// Seconds of a `repeat_every` like `30m` or `1h` (humantime): whole seconds, from 1 s to
/// [`MAX_REPEAT_EVERY_SECS`].
fn repeat_every(text: &str) -> Result<u64, SpecError> {
    let d = humantime::parse_duration(text.trim()).map_err(|e| {
        SpecError::new(format!(
            "repeat_every must be a duration like \"30m\" or \"1h\": {e}"
        ))
    })?;
    if d.subsec_nanos() != 0 {
        return Err(SpecError::new("repeat_every must be whole seconds"));
    }
    range(
        "repeat_every (seconds)",
        d.as_secs(),
        1,
        MAX_REPEAT_EVERY_SECS,
    )?;
    Ok(d.as_secs())
}

/// How a stored `repeat_every_secs` is shown: `1h`, `30m`, `1h 30m`.
pub fn repeat_every_text(secs: u64) -> String {
    humantime::format_duration(std::time::Duration::from_secs(secs)).to_string()
}

fn tls_min_days(days: u64) -> Result<u32, SpecError> {
    range("tls_min_days", days, 0, MAX_TLS_MIN_DAYS)?;
    u32::try_from(days).map_err(|_| SpecError::new("tls_min_days is out of range"))
}

fn parse_statuses(specs: Vec<StatusSpec>) -> Result<Vec<StatusRange>, SpecError> {
    let bad = |what: &str| {
        SpecError::new(format!(
            "expect_status: {what:?} is not a status code (100-599) or a range like \"200-299\""
        ))
    };
    let code = |n: i64, what: &str| {
        u16::try_from(n)
            .ok()
            .filter(|c| (100..=599).contains(c))
            .ok_or_else(|| bad(what))
    };
    specs
        .into_iter()
        .map(|s| match s {
            StatusSpec::Code(n) => {
                let c = code(n, &n.to_string())?;
                Ok(StatusRange { from: c, to: c })
            }
            StatusSpec::Text(t) => {
                let (a, b) = t.split_once('-').unwrap_or((&t, &t));
                let parse = |x: &str| x.trim().parse::<i64>().map_err(|_| bad(&t));
                let (from, to) = (code(parse(a)?, &t)?, code(parse(b)?, &t)?);
                if from > to {
                    return Err(bad(&t));
                }
                Ok(StatusRange { from, to })
            }
        })
        .collect()
}
