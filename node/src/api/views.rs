//! Response bodies: how monitors look on the wire. Secrets are redacted by the domain's one
//! rule ([`crate::domain::secret`]).

use std::borrow::Cow;

use ringwatch_proto::{ProbeResult, Status, StatusRange};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use std::collections::BTreeMap;

use super::input::StatusSpec;
use crate::domain::secret;
use crate::domain::spec::{ZonesSpec, repeat_every_text};
use crate::live::{LiveEntry, ZoneSight};

/// A monitor with its current status, as every monitor endpoint answers it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Monitor)]
pub struct MonitorView<'a> {
    pub id: &'a str,
    /// The password of its user-info and secret query values show as `***`.
    #[schema(value_type = String)]
    pub url: Cow<'a, str>,
    /// Secrets quoted in it (a name defaulted from the URL) show as `***`.
    #[schema(value_type = String)]
    pub name: Cow<'a, str>,
    pub interval_secs: u64,
    pub timeout_ms: u64,
    pub active: bool,
    pub failure_threshold: u32,
    pub recovery_threshold: u32,
    /// Accepted status codes and ranges; empty means the default 200-399.
    pub expect_status: Vec<StatusSpec>,
    pub expect_body_contains: Option<&'a str>,
    pub expect_body_not_contains: Option<&'a str>,
    pub max_response_ms: Option<u64>,
    pub method: &'a str,
    /// Request headers sent with each check; the values of secret ones (`Authorization`,
    /// `Cookie`, names with `token`, `key`, `secret`, `auth`...) show as `***`.
    #[schema(value_type = std::collections::HashMap<String, String>)]
    pub headers: HeadersView<'a>,
    /// Header names marked secret besides the built-in ones.
    pub secret_headers: &'a [String],
    /// `***` when `secret_body` is set.
    pub body: Option<&'a str>,
    pub secret_body: bool,
    pub tls_min_days: Option<u32>,
    pub tls_skip_verify: bool,
    /// `null`: every notifier.
    pub notifiers: Option<&'a [String]>,
    /// `null`: probed once in the cluster; `"all"`: from every zone; or the zone names.
    #[schema(value_type = Option<Object>)]
    pub zones: Option<ZonesSpec>,
    /// Zones that must see it down; `null`: a majority of its reachable zones.
    pub quorum: Option<u32>,
    /// For a monitor with zones: each of its zones' view, `up`, `down`, `pending` or
    /// `unreachable` (no live node in that zone).
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub zone_status: Option<BTreeMap<String, &'static str>>,
    /// Some zone sees it down but not enough for the quorum.
    pub degraded: bool,
    /// Its badges are public even when no public status page shows it.
    pub public_badges: bool,
    /// The reminder period while it stays down (`1h`, `30m`...); `null`: no reminders.
    pub repeat_every: Option<String>,
    pub status: Status,
    /// Unix ms of the last status change; `null` before the first.
    pub status_since_ms: Option<u64>,
    /// The node probing the monitor now (for a monitor with zones: the node that decides its
    /// status); `null` when it is not probed.
    pub owner: Option<&'a str>,
    /// The newest probe result.
    pub last_result: Option<&'a ProbeResult>,
    /// Unix ms of its creation.
    pub created_ms: u64,
    /// Share of the last 24 hours the monitor was not down (0..1; paused time left out),
    /// from its status changes; `null` without data. Recomputed every minute and at each
    /// status change, and carried forward to now by the current status.
    pub uptime_24h: Option<f64>,
    /// The same over 30 days.
    pub uptime_30d: Option<f64>,
    /// 95th percentile of the successful checks' response time over 24 hours, in ms.
    pub p95_ms_24h: Option<u64>,
}

/// The answer of `POST /api/monitors`: the created monitor, or an array of them when the
/// body was an array.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Created<'a> {
    One(Box<MonitorView<'a>>),
    Bulk(Vec<MonitorView<'a>>),
}

/// Request headers as a JSON object, in the monitor's order, secret values redacted.
#[derive(Debug)]
pub struct HeadersView<'a> {
    pub headers: &'a [(String, String)],
    /// The names the monitor marks secret.
    pub marked: &'a [String],
}

impl Serialize for HeadersView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.headers.len()))?;
        for (name, value) in self.headers {
            map.serialize_entry(name, secret::header_value(name, value, self.marked))?;
        }
        map.end()
    }
}

/// A ratio to 6 decimals (the list keeps ratios as `f32`; no false precision).
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn status_spec(r: &StatusRange) -> StatusSpec {
    if r.from == r.to {
        StatusSpec::Code(r.from.into())
    } else {
        StatusSpec::Text(format!("{}-{}", r.from, r.to))
    }
}

impl<'a> MonitorView<'a> {
    /// `owner` is the node probing the monitor now, if it is probed at all; `sight` the
    /// cluster's zones as this node sees them (asked only for a monitor with zones).
    pub fn new(
        e: &'a LiveEntry,
        owner: Option<&'a str>,
        sight: impl FnOnce() -> ZoneSight,
    ) -> Self {
        let m = &e.monitor;
        let zone_status = m.zones.as_ref().and_then(|_| sight().statuses(e));
        let degraded = zone_status
            .as_ref()
            .is_some_and(|z| z.values().any(|s| *s == "down"))
            && e.status() != Status::Down;
        let now = crate::clock::now_ms();
        let secrets = secret::monitor_secrets(m);
        MonitorView {
            id: &m.id,
            url: secret::redact_url(&m.url),
            name: secret::monitor_name(m, &secrets),
            interval_secs: m.interval_secs,
            timeout_ms: m.timeout_ms,
            active: m.active,
            failure_threshold: m.failure_threshold,
            recovery_threshold: m.recovery_threshold,
            expect_status: m
                .effective_expect_status()
                .iter()
                .map(status_spec)
                .collect(),
            expect_body_contains: m.expect_body_contains.as_deref(),
            expect_body_not_contains: m.expect_body_not_contains.as_deref(),
            max_response_ms: m.max_response_ms,
            method: &m.method,
            headers: HeadersView {
                headers: &m.headers,
                marked: &m.secret_headers,
            },
            secret_headers: &m.secret_headers,
            body: secret::body(m),
            secret_body: m.secret_body,
            tls_min_days: m.tls_min_days,
            tls_skip_verify: m.tls_skip_verify,
            notifiers: m.notifiers.as_deref(),
            zones: m.zones.as_ref().map(ZonesSpec::of),
            quorum: m.quorum,
            zone_status,
            degraded,
            public_badges: m.public_badges,
            repeat_every: m.repeat_every_secs.map(repeat_every_text),
            status: e.status(),
            status_since_ms: (e.state.since_ms > 0).then_some(e.state.since_ms),
            owner: owner.filter(|_| m.is_probed()),
            last_result: e.last.as_ref(),
            created_ms: m.created_ms,
            uptime_24h: e.figures.uptime_24h(e.status(), now).map(round6),
            uptime_30d: e.figures.uptime_30d(e.status(), now).map(round6),
            p95_ms_24h: e.figures.p95_ms_24h(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_an_object_in_order_with_secrets_redacted() {
        let headers = vec![
            ("X-B".to_owned(), "2".to_owned()),
            ("X-A".into(), "1".into()),
            ("Authorization".into(), "Bearer s1".into()),
        ];
        let view = |marked: &[String]| {
            serde_json::to_string(&HeadersView {
                headers: &headers,
                marked,
            })
            .unwrap()
        };
        assert_eq!(view(&[]), r#"{"X-B":"2","X-A":"1","Authorization":"***"}"#);
        assert_eq!(
            view(&["x-a".to_owned()]),
            r#"{"X-B":"2","X-A":"***","Authorization":"***"}"#
        );
    }
}
