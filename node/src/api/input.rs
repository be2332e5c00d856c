//! Request bodies: parsing with readable errors, and validation into definitions.
//!
//! Every check runs before anything is stored, so a refused request changes nothing.

use serde::{Deserialize, Deserializer};

use ringwatch_proto::{
    DEFAULT_FAILURE_THRESHOLD, DEFAULT_INTERVAL_SECS, DEFAULT_RECOVERY_THRESHOLD,
    DEFAULT_TIMEOUT_MS, Monitor, StatusRange,
};

use super::error::ApiError;

/// Longest interval between probes: one day.
pub const MAX_INTERVAL_SECS: u64 = 86_400;
/// Longest probe timeout: five minutes.
pub const MAX_TIMEOUT_MS: u64 = 300_000;
/// Largest failure or recovery threshold.
pub const MAX_THRESHOLD: u32 = 100;
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest body assertion text, in bytes.
pub const MAX_EXPECT_BYTES: usize = 1024;

/// An accepted-status entry: `200` or `"200-299"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StatusSpec {
    Code(i64),
    Text(String),
}

/// The body of `POST /api/monitors` (one element of it, for bulk).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorInput {
    pub url: String,
    pub name: Option<String>,
    pub interval_secs: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub active: Option<bool>,
    pub failure_threshold: Option<u32>,
    pub recovery_threshold: Option<u32>,
    pub expect_status: Option<Vec<StatusSpec>>,
    pub expect_body_contains: Option<String>,
}

/// The body of `PATCH /api/monitors/{id}`: only the fields to change. `null` clears the
/// nullable ones.
#[derive(Debug, Deserialize, Default)]
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
}

/// Tells a field given as `null` (Some(None)) from a missing one (None).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn parse_json<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    at: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| ApiError::bad_request(format!("{at}{e}")))
}

/// Parses a create body: one object or an array of them.
pub fn parse_create(body: &[u8]) -> Result<(Vec<MonitorInput>, bool), ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    match value {
        serde_json::Value::Array(items) => {
            if items.is_empty() {
                return Err(ApiError::bad_request("the array of monitors is empty"));
            }
            let inputs = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| parse_json(v, &format!("monitor #{i}: ")))
                .collect::<Result<_, _>>()?;
            Ok((inputs, true))
        }
        v @ serde_json::Value::Object(_) => Ok((vec![parse_json(v, "")?], false)),
        _ => Err(ApiError::bad_request(
            "expected a monitor object or an array of monitor objects",
        )),
    }
}

/// Parses a PATCH body.
pub fn parse_patch(body: &[u8]) -> Result<MonitorPatch, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "expected a JSON object of fields to change",
        ));
    }
    parse_json(value, "")
}

impl MonitorInput {
    /// A validated definition (id, revision and timestamps are set by the catalog).
    pub fn into_monitor(self) -> Result<Monitor, ApiError> {
        let mut m = Monitor::new(String::new(), self.url.trim().to_owned());
        m.name = self.name.unwrap_or_else(|| m.url.clone());
        m.interval_secs = self.interval_secs.unwrap_or(DEFAULT_INTERVAL_SECS);
        m.timeout_ms = self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        m.active = self.active.unwrap_or(true);
        m.failure_threshold = self.failure_threshold.unwrap_or(DEFAULT_FAILURE_THRESHOLD);
        m.recovery_threshold = self
            .recovery_threshold
            .unwrap_or(DEFAULT_RECOVERY_THRESHOLD);
        m.expect_status = parse_statuses(self.expect_status.unwrap_or_default())?;
        m.expect_body_contains = self.expect_body_contains;
        validate(&m)?;
        Ok(m)
    }
}

impl MonitorPatch {
    /// `m` with the patch applied, validated.
    pub fn apply(self, mut m: Monitor) -> Result<Monitor, ApiError> {
        if let Some(v) = self.url {
            m.url = v.trim().to_owned();
        }
        if let Some(v) = self.name {
            m.name = v;
        }
        if let Some(v) = self.interval_secs {
            m.interval_secs = v;
        }
        if let Some(v) = self.timeout_ms {
            m.timeout_ms = v;
        }
        if let Some(v) = self.active {
            m.active = v;
        }
        if let Some(v) = self.failure_threshold {
            m.failure_threshold = v;
        }
        if let Some(v) = self.recovery_threshold {
            m.recovery_threshold = v;
        }
        if let Some(v) = self.expect_status {
            m.expect_status = parse_statuses(v.unwrap_or_default())?;
        }
        if let Some(v) = self.expect_body_contains {
            m.expect_body_contains = v;
        }
        validate(&m)?;
        Ok(m)
    }
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

fn validate(m: &Monitor) -> Result<(), ApiError> {
    validate_url(&m.url)?;
    let range = |name: &str, v: u64, lo: u64, hi: u64| {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(ApiError::bad_request(format!(
                "{name} must be between {lo} and {hi}, got {v}"
            )))
        }
    };
    range("interval_secs", m.interval_secs, 1, MAX_INTERVAL_SECS)?;
    range("timeout_ms", m.timeout_ms, 1, MAX_TIMEOUT_MS)?;
    let t = u64::from(MAX_THRESHOLD);
    range("failure_threshold", m.failure_threshold.into(), 1, t)?;
    range("recovery_threshold", m.recovery_threshold.into(), 1, t)?;
    let chars = m.name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(ApiError::bad_request(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if m.expect_body_contains
        .as_ref()
        .is_some_and(|t| t.len() > MAX_EXPECT_BYTES)
    {
        return Err(ApiError::bad_request(format!(
            "expect_body_contains must be at most {MAX_EXPECT_BYTES} bytes"
        )));
    }
    Ok(())
}

fn validate_url(url: &str) -> Result<(), ApiError> {
    if url.len() > MAX_URL_LEN {
        return Err(ApiError::bad_request(format!(
            "url is longer than {MAX_URL_LEN} characters"
        )));
    }
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| ApiError::bad_request(format!("url {url:?} is not a valid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(format!(
            "url must start with http:// or https://, got scheme {:?}",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request("url has no host"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
