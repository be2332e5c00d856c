//! Request bodies: parsing with readable errors, and validation into definitions.
//!
//! Every check runs before anything is stored, so a refused request changes nothing.

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use ringwatch_proto::{Monitor, StatusRange};

use super::error::ApiError;
use validate::{range, validate};

mod validate;

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
/// Most notifier ids per monitor.
pub const MAX_NOTIFIERS: usize = 50;
/// Longest notifier id, in characters.
pub const MAX_NOTIFIER_ID_CHARS: usize = 100;

/// An accepted-status entry: `200` or `"200-299"`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
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

/// The body of `POST /api/monitors` (one element of it, for bulk). Missing fields take their
/// defaults.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
    /// Request body, at most 64 KiB.
    pub body: Option<String>,
    /// https only: fewer days than this before the certificate expires fails the probe, 0-3650.
    pub tls_min_days: Option<u64>,
    /// Accept certificates that do not verify; default `false`.
    pub tls_skip_verify: Option<bool>,
    /// Notifier ids to alert; missing or `null` means every notifier.
    pub notifiers: Option<Vec<String>>,
}

/// The body of `POST /api/monitors`: one monitor, or a non-empty array of them (bulk create,
/// all or nothing).
// Only the schema: `parse_create` reads the body (and says which element is wrong).
#[derive(Debug, utoipa::ToSchema)]
#[serde(untagged)]
pub enum CreateBody {
    One(Box<MonitorInput>),
    Bulk(Vec<MonitorInput>),
}

/// The body of `PATCH /api/monitors/{id}`: only the fields to change. `null` clears the
/// nullable ones (for `notifiers`: back to every notifier).
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
    pub body: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub tls_min_days: Option<Option<u64>>,
    pub tls_skip_verify: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub notifiers: Option<Option<Vec<String>>>,
}

/// Tells a field given as `null` (Some(None)) from a missing one (None).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Parses the JSON `text` of one value as `T`; `at` prefixes the message of a refusal.
fn parse_json<T: serde::de::DeserializeOwned>(text: &str, at: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("{at}{e}")))
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::bad_request(format!("malformed JSON: {e}"))
}

/// Parses a create body: one object or an array of them. Each element is deserialized
/// straight from its text (no intermediate `serde_json::Value` tree: a bulk import of
/// thousands of monitors would build and drop one, and objects would lose their order).
pub fn parse_create(body: &[u8]) -> Result<(Vec<MonitorInput>, bool), ApiError> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(malformed)?;
    let text = raw.get();
    match text.as_bytes().first() {
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(malformed)?;
            if items.is_empty() {
                return Err(ApiError::bad_request("the array of monitors is empty"));
            }
            let inputs = items
                .iter()
                .enumerate()
                .map(|(i, v)| parse_json(v.get(), &format!("monitor #{i}: ")))
                .collect::<Result<_, _>>()?;
            Ok((inputs, true))
        }
        Some(b'{') => Ok((vec![parse_json(text, "")?], false)),
        _ => Err(ApiError::bad_request(
            "expected a monitor object or an array of monitor objects",
        )),
    }
}

/// Parses a PATCH body.
pub fn parse_patch(body: &[u8]) -> Result<MonitorPatch, ApiError> {
    let raw: &RawValue = serde_json::from_slice(body).map_err(malformed)?;
    if !raw.get().starts_with('{') {
        return Err(ApiError::bad_request(
            "expected a JSON object of fields to change",
        ));
    }
    parse_json(raw.get(), "")
}

impl MonitorInput {
    /// A validated definition (id, revision and timestamps are set by the catalog).
    pub fn into_monitor(self) -> Result<Monitor, ApiError> {
        let m = Monitor::new(String::new(), self.url.trim().to_owned());
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
            body: i.body.map(Some),
            tls_min_days: i.tls_min_days.map(Some),
            tls_skip_verify: i.tls_skip_verify,
            notifiers: i.notifiers.map(Some),
        }
    }
}

impl MonitorPatch {
    /// `m` with the patch applied, validated.
    pub fn apply(self, mut m: Monitor) -> Result<Monitor, ApiError> {
        let p = self;
        set(&mut m.url, p.url.map(|v| v.trim().to_owned()));
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
        set(&mut m.headers, p.headers.map(|v| v.unwrap_or_default().0));
        set(&mut m.body, p.body);
        if let Some(v) = p.tls_min_days {
            m.tls_min_days = v.map(tls_min_days).transpose()?;
        }
        set(&mut m.tls_skip_verify, p.tls_skip_verify);
        set(&mut m.notifiers, p.notifiers);
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

fn tls_min_days(days: u64) -> Result<u32, ApiError> {
    range("tls_min_days", days, 0, MAX_TLS_MIN_DAYS)?;
    u32::try_from(days).map_err(ApiError::internal)
}

fn parse_statuses(specs: Vec<StatusSpec>) -> Result<Vec<StatusRange>, ApiError> {
    let bad = |what: &str| {
        ApiError::bad_request(format!(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_the_order_they_were_sent_in() {
        let body = br#"{"url": "http://x/", "headers": {"X-Good": "1", "Authorization": "t"}}"#;
        let (inputs, _) = parse_create(body).unwrap();
        let m = inputs.into_iter().next().unwrap().into_monitor().unwrap();
        let names: Vec<&str> = m.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["X-Good", "Authorization"]);
    }
    use ringwatch_proto::DEFAULT_INTERVAL_SECS;

    fn create(body: &str) -> Result<Vec<Monitor>, ApiError> {
        let (inputs, _) = parse_create(body.as_bytes())?;
        inputs.into_iter().map(MonitorInput::into_monitor).collect()
    }

    #[test]
    fn accepts_good_input_with_defaults() {
        let m = create(r#"{"url":"https://example.com/x"}"#)
            .unwrap()
            .remove(0);
        assert_eq!(m.interval_secs, DEFAULT_INTERVAL_SECS);
        assert_eq!(m.name, "https://example.com/x");
        let m = create(r#"{"url":"http://a/","expect_status":[200,"300-302"]}"#).unwrap();
        assert_eq!(m[0].expect_status.len(), 2);
    }

    #[test]
    fn refuses_bad_input() {
        for body in [
            "{",
            "42",
            "[]",
            r#"{"url":5}"#,
            r#"{"url":"http://a/","interval_secs":"abc"}"#,
            r#"{"url":"http://a/","bogus":1}"#,
            r#"{"url":"ftp://a/"}"#,
            r#"{"url":"javascript:alert(1)"}"#,
            r#"{"url":"example.com"}"#,
            r#"{"url":"http://a/","interval_secs":0}"#,
            r#"{"url":"http://a/","timeout_ms":0}"#,
            r#"{"url":"http://a/","interval_secs":-5}"#,
            r#"{"url":"http://a/","failure_threshold":0}"#,
            r#"{"url":"http://a/","expect_status":["abc"]}"#,
            r#"{"url":"http://a/","expect_status":[700]}"#,
            r#"{"url":"http://a/","name":""}"#,
            r#"[{"url":"http://a/"},{"url":"nope"}]"#,
        ] {
            let e = create(body).expect_err(body);
            assert_eq!(e.status, 400, "{body}");
            assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn patch_applies_and_clears() {
        let m = create(r#"{"url":"http://a/","expect_body_contains":"x"}"#)
            .unwrap()
            .remove(0);
        let p = parse_patch(br#"{"interval_secs":5,"expect_body_contains":null}"#).unwrap();
        let m2 = p.apply(m.clone()).unwrap();
        assert_eq!(m2.interval_secs, 5);
        assert_eq!(m2.expect_body_contains, None);
        assert!(parse_patch(br#"{"id":"x"}"#).is_err());
        assert!(
            parse_patch(br#"{"interval_secs":0}"#)
                .unwrap()
                .apply(m)
                .is_err()
        );
    }

    #[test]
    fn accepts_assertions_and_request_fields() {
        let m = create(
            r#"{"url":"https://a/","method":"post","headers":{"X-Token":"t","Accept":"*/*"},
                "body":"{}","expect_body_not_contains":"error","max_response_ms":800,
                "tls_min_days":7,"tls_skip_verify":true,"notifiers":["ops","web"]}"#,
        )
        .unwrap()
        .remove(0);
        assert_eq!(m.method, "POST");
        assert_eq!(m.headers.len(), 2);
        assert!(m.headers.contains(&("X-Token".into(), "t".into())));
        assert_eq!(m.body.as_deref(), Some("{}"));
        assert_eq!(m.expect_body_not_contains.as_deref(), Some("error"));
        assert_eq!((m.max_response_ms, m.tls_min_days), (Some(800), Some(7)));
        assert!(m.tls_skip_verify);
        assert_eq!(m.notifiers, Some(vec!["ops".into(), "web".into()]));
        let m = create(r#"{"url":"tcp://db.local:5432","max_response_ms":100}"#).unwrap();
        assert!(m[0].is_tcp());
        let m = create(r#"{"url":"http://a/","notifiers":null}"#).unwrap();
        assert_eq!(m[0].notifiers, None);
    }

    #[test]
    fn refuses_bad_assertions_and_request_fields() {
        let too_many: String = (0..=MAX_HEADERS)
            .map(|i| format!(r#""X-{i}":"v","#))
            .collect();
        let big_body = "x".repeat(MAX_REQUEST_BODY_BYTES + 1);
        for body in [
            r#"{"url":"http://a/","method":"TRACE"}"#.to_owned(),
            r#"{"url":"http://a/","method":""}"#.into(),
            r#"{"url":"http://a/","headers":{"bad name":"v"}}"#.into(),
            r#"{"url":"http://a/","headers":{"":"v"}}"#.into(),
            r#"{"url":"http://a/","headers":{"X-A":"line
break"}}"#
                .into(),
            r#"{"url":"http://a/","headers":{"X-A":5}}"#.into(),
            r#"{"url":"http://a/","headers":["X-A: v"]}"#.into(),
            r#"{"url":"http://a/","headers":{"Content-Length":"5"}}"#.into(),
            r#"{"url":"http://a/","headers":{"X-A":"1","x-a":"2"}}"#.into(),
            format!(r#"{{"url":"http://a/","headers":{{{}"X":"v"}}}}"#, too_many),
            format!(r#"{{"url":"http://a/","body":"{big_body}"}}"#),
            r#"{"url":"http://a/","max_response_ms":0}"#.into(),
            r#"{"url":"http://a/","max_response_ms":300001}"#.into(),
            r#"{"url":"https://a/","tls_min_days":3651}"#.into(),
            r#"{"url":"https://a/","tls_min_days":-1}"#.into(),
            r#"{"url":"http://a/","tls_min_days":7}"#.into(),
            r#"{"url":"http://a/","tls_skip_verify":"yes"}"#.into(),
            r#"{"url":"http://a/","expect_body_not_contains":""}"#.into(),
            r#"{"url":"http://a/","notifiers":[""]}"#.into(),
            r#"{"url":"http://a/","notifiers":"ops"}"#.into(),
            format!(
                r#"{{"url":"http://a/","notifiers":["{}"]}}"#,
                "n".repeat(101)
            ),
            r#"{"url":"tcp://db.local"}"#.into(),
            r#"{"url":"tcp://db.local:0"}"#.into(),
            r#"{"url":"tcp://db.local:5432/path"}"#.into(),
            r#"{"url":"tcp://db.local:5432?q=1"}"#.into(),
            r#"{"url":"tcp://:5432"}"#.into(),
            r#"{"url":"TCP://db.local:5432"}"#.into(),
            r#"{"url":"tcp://db.local:5432","expect_body_contains":"x"}"#.into(),
            r#"{"url":"tcp://db.local:5432","method":"POST"}"#.into(),
        ] {
            let e = create(&body).expect_err(&body);
            assert_eq!(e.status, 400, "{body}");
            assert!(!e.message.is_empty());
        }
        let e = create(r#"{"url":"tcp://db.local"}"#).unwrap_err();
        assert!(e.message.contains("needs a port"), "{}", e.message);
        let e = create(r#"{"url":"http://a/","method":"TRACE"}"#).unwrap_err();
        assert!(e.message.contains("GET, HEAD, POST"), "{}", e.message);
    }

    #[test]
    fn patch_sets_and_clears_new_fields() {
        let m = create(r#"{"url":"https://a/","headers":{"X-A":"1"},"tls_min_days":3}"#)
            .unwrap()
            .remove(0);
        let p = parse_patch(
            br#"{"method":"delete","headers":null,"tls_min_days":null,"notifiers":[]}"#,
        )
        .unwrap();
        let m2 = p.apply(m.clone()).unwrap();
        assert_eq!(m2.method, "DELETE");
        assert!(m2.headers.is_empty());
        assert_eq!(m2.tls_min_days, None);
        assert_eq!(m2.notifiers, Some(vec![]));
        let to_tcp = parse_patch(br#"{"url":"tcp://a:22"}"#).unwrap();
        assert!(
            to_tcp.apply(m).is_err(),
            "headers do not apply to tcp checks"
        );
    }
}
