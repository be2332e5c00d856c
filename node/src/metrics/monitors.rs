//! Per-monitor series on `/metrics`: each monitor's status, last check from each zone, checks
//! by outcome and uptime, for Prometheus users who alert on and graph single URLs.
//!
//! **One node tells each monitor.** Every node holds every monitor's results, so every node
//! could expose every monitor; a Prometheus scraping all of them would then hold one series
//! per monitor *and node*. Instead a monitor's series come from its owner only (the node that
//! decides its status, `Ownership::owner`), and only once that node has heard the cluster
//! (`api::overview` picks the rows).
//! When the owner dies the monitor moves to a survivor within the heartbeat timeout and the
//! series continue there (with that node's `instance` label). During a partition each side's
//! owner tells it, so queries aggregate by `id` (`max by (id, name) (...)`).
//!
//! The cost: 12 series per monitor (1 `up`, 5 `status`, 2 `uptime`, and per zone it is
//! probed from: latency, HTTP code, last check time, checks by each outcome seen; TLS time
//! left for https), about 1.1 KB of text per scrape (`scripts/bench-metrics`), and a [`Tally`]
//! entry per monitor and zone on every node.
//! `metrics_per_monitor = false` turns both off.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use ringwatch_proto::{MonitorId, ProbeResult};

use crate::domain::status::ShownStatus;
use crate::domain::zones::DEFAULT_ZONE;

/// The last check of one monitor from one zone, and the checks of each outcome this node has
/// recorded since it started.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZoneFacts {
    pub at_ms: u64,
    pub latency_ms: u64,
    pub status_code: Option<u16>,
    pub tls_days_left: Option<i64>,
    pub outcomes: Vec<(&'static str, u64)>,
}

impl ZoneFacts {
    /// Counts `r` and takes it as the last check, unless it is not newer than the last one
    /// (a result heard twice, or an older one arriving late through catch-up).
    fn observe(&mut self, r: &ProbeResult) {
        if r.at_ms <= self.at_ms {
            return;
        }
        self.at_ms = r.at_ms;
        self.latency_ms = r.latency_ms;
        self.status_code = r.status_code;
        self.tls_days_left = r.tls_days_left;
        let outcome = r.error_kind.map_or("ok", |k| k.as_str());
        match self.outcomes.iter_mut().find(|(o, _)| *o == outcome) {
            Some((_, n)) => *n += 1,
            None => self.outcomes.push((outcome, 1)),
        }
    }
}

/// What every result this node records (its own and its peers') says per monitor and zone:
/// kept on every node, so the node a monitor moves to already knows its last checks.
#[derive(Debug, Default)]
pub struct Tally {
    monitors: Mutex<HashMap<MonitorId, BTreeMap<String, ZoneFacts>>>,
}

impl Tally {
    pub fn record(&self, results: &[ProbeResult]) {
        let mut monitors = self.monitors.lock().unwrap_or_else(|p| p.into_inner());
        for r in results {
            let zone = if r.zone.is_empty() {
                DEFAULT_ZONE
            } else {
                &r.zone
            };
            let zones = monitors.entry(r.monitor_id.clone()).or_default();
            match zones.get_mut(zone) {
                Some(facts) => facts.observe(r),
                None => zones.entry(zone.to_owned()).or_default().observe(r),
            }
        }
    }

    /// The facts of monitor `id`, by zone.
    pub fn of(&self, id: &str) -> Vec<(String, ZoneFacts)> {
        let monitors = self.monitors.lock().unwrap_or_else(|p| p.into_inner());
        monitors.get(id).map_or_else(Vec::new, |zones| {
            zones.iter().map(|(z, f)| (z.clone(), f.clone())).collect()
        })
    }

    /// Forgets the monitors `keep` says no to (deleted ones).
    pub fn retain(&self, keep: impl Fn(&str) -> bool) {
        let mut monitors = self.monitors.lock().unwrap_or_else(|p| p.into_inner());
        monitors.retain(|id, _| keep(id));
    }
}

/// One monitor's series, as its owner tells them.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub shown: ShownStatus,
    /// For a monitor probed from several zones: each zone whose verdict is up (`true`) or
    /// down.
    pub zone_up: Vec<(String, bool)>,
    pub uptime_24h: Option<f64>,
    pub uptime_30d: Option<f64>,
    pub zones: Vec<(String, ZoneFacts)>,
}

const STATES: [ShownStatus; 5] = [
    ShownStatus::Up,
    ShownStatus::Down,
    ShownStatus::Pending,
    ShownStatus::Paused,
    ShownStatus::Maintenance,
];

/// The per-monitor families, for one scrape. A family without series is left out.
#[derive(Debug)]
pub struct MonitorFamilies(pub Vec<Row>);

/// A monitor's `id` and `name` labels.
fn base(r: &Row) -> [(&'static str, &str); 2] {
    [("id", &r.id), ("name", &r.name)]
}

impl Collector for MonitorFamilies {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let rows = &self.0;
        gauges(
            &mut enc,
            "monitor_up",
            "1 when the monitor is up, 0 when down; absent while pending, paused or in \
             maintenance",
            rows.iter().filter_map(|r| match r.shown {
                ShownStatus::Up => Some((base(r), 1.0)),
                ShownStatus::Down => Some((base(r), 0.0)),
                _ => None,
            }),
        )?;
        gauges(
            &mut enc,
            "monitor_status",
            "The monitor's status as a state set: 1 for the current state, 0 for the others",
            rows.iter().flat_map(|r| {
                STATES.iter().map(move |s| {
                    let labels = [
                        ("id", r.id.as_str()),
                        ("name", r.name.as_str()),
                        ("state", s.as_str()),
                    ];
                    (labels, if *s == r.shown { 1.0 } else { 0.0 })
                })
            }),
        )?;
        gauges(
            &mut enc,
            "monitor_zone_up",
            "For a monitor probed from several zones: 1 when the zone says up, 0 when down",
            rows.iter().flat_map(|r| {
                r.zone_up.iter().map(|(z, up)| {
                    let labels = [
                        ("id", r.id.as_str()),
                        ("name", r.name.as_str()),
                        ("zone", z),
                    ];
                    (labels, if *up { 1.0 } else { 0.0 })
                })
            }),
        )?;
        let per_zone = |f: fn(&ZoneFacts) -> Option<f64>| {
            rows.iter().flat_map(move |r| {
                r.zones.iter().filter_map(move |(z, facts)| {
                    let labels = [
                        ("id", r.id.as_str()),
                        ("name", r.name.as_str()),
                        ("zone", z),
                    ];
                    f(facts).map(|v| (labels, v))
                })
            })
        };
        gauges(
            &mut enc,
            "monitor_latency_seconds",
            "Duration of the monitor's last check from the zone",
            per_zone(|f| Some(f.latency_ms as f64 / 1000.0)),
        )?;
        gauges(
            &mut enc,
            "monitor_http_status_code",
            "HTTP status of the monitor's last check from the zone (absent without a response)",
            per_zone(|f| f.status_code.map(f64::from)),
        )?;
        gauges(
            &mut enc,
            "monitor_tls_cert_remaining_seconds",
            "Time until the certificate seen by the last https check from the zone expires, \
             in whole days (days times 86400; negative once expired)",
            per_zone(|f| f.tls_days_left.map(|d| d as f64 * 86_400.0)),
        )?;
        gauges(
            &mut enc,
            "monitor_last_check_timestamp_seconds",
            "Unix time the monitor's last check from the zone started",
            per_zone(|f| Some(f.at_ms as f64 / 1000.0)),
        )?;
        family(
            &mut enc,
            "monitor_checks",
            "Checks of the monitor from the zone by outcome (ok or the error kind), as \
             recorded by this node since it started",
            MetricType::Counter,
            rows.iter().flat_map(|r| {
                r.zones.iter().flat_map(move |(z, facts)| {
                    facts.outcomes.iter().map(move |(outcome, n)| {
                        let labels = [
                            ("id", r.id.as_str()),
                            ("name", r.name.as_str()),
                            ("zone", z),
                            ("outcome", outcome),
                        ];
                        (labels, ConstCounter::new(*n))
                    })
                })
            }),
        )?;
        gauges(
            &mut enc,
            "monitor_uptime_ratio",
            "Uptime over the window from the history rollups, 0 to 1 (maintenance time left \
             out)",
            rows.iter().flat_map(|r| {
                [("24h", r.uptime_24h), ("30d", r.uptime_30d)]
                    .into_iter()
                    .filter_map(move |(window, v)| {
                        let labels = [
                            ("id", r.id.as_str()),
                            ("name", r.name.as_str()),
                            ("window", window),
                        ];
                        v.map(|v| (labels, v))
                    })
            }),
        )
    }
}

/// Encodes a gauge family of `series`, if there are any.
fn gauges<L: EncodeLabelSet>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (L, f64)>,
) -> fmt::Result {
    family(
        enc,
        name,
        help,
        MetricType::Gauge,
        series.map(|(l, v)| (l, ConstGauge::new(v))),
    )
}

/// Encodes a family of `series` of type `kind`, if there are any.
fn family<L: EncodeLabelSet, M: EncodeMetric>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    series: impl Iterator<Item = (L, M)>,
) -> fmt::Result {
    let mut series = series.peekable();
    if series.peek().is_none() {
        return Ok(());
    }
    let mut metric = enc.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in series {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(at_ms: u64, zone: &str, error: bool) -> ProbeResult {
        ProbeResult {
            monitor_id: "m1".into(),
            at_ms,
            ok: !error,
            status_code: Some(if error { 503 } else { 200 }),
            latency_ms: at_ms / 10,
            error: None,
            error_kind: error.then_some(ringwatch_proto::ErrorKind::BadStatus),
            node: "n1".into(),
            zone: zone.into(),
            tls_days_left: None,
        }
    }

    #[test]
    fn a_result_heard_twice_or_late_counts_once_and_does_not_replace_the_last() {
        let tally = Tally::default();
        let batch = [result(1000, "", false), result(2000, "", true)];
        tally.record(&batch);
        tally.record(&batch);
        tally.record(&[result(1500, "", false)]);
        tally.record(&[result(3000, "eu", false)]);
        let zones = tally.of("m1");
        assert_eq!(zones.len(), 2);
        let (zone, facts) = &zones[0];
        assert_eq!(zone, DEFAULT_ZONE);
        assert_eq!((facts.at_ms, facts.status_code), (2000, Some(503)));
        assert_eq!(facts.outcomes, vec![("ok", 1), ("bad_status", 1)]);
        assert_eq!(zones[1].0, "eu");
        tally.retain(|id| id != "m1");
        assert!(tally.of("m1").is_empty());
    }
}
