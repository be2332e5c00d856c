//! Prometheus metrics of a node, served as text on `GET /metrics`: the node's own series
//! (every node tells its own) and the per-monitor ones ([`monitors`]: each monitor's owner
//! tells them), in either text format ([`exposition`]).

pub mod exposition;
pub mod monitors;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::live::Summary;
use exposition::Format;
use monitors::{MonitorFamilies, Row, Tally};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `ok`, or the error kind of a failed check.
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabel {
    /// `up` (the down was called off) or `down` (confirmed).
    pub verdict: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabel {
    /// A replicated kind of definition (`monitor`, `notifier`), or `unknown`.
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// Why a peer's frame was dropped (`cluster::guard::FrameDrop`).
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabel {
    /// `result`, `transition` or `rollup`.
    pub kind: &'static str,
    /// Why it was refused (`cluster::guard::RecordRefusal`).
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InfoLabel {
    node: String,
    zone: String,
    version: &'static str,
}

/// What a scrape reads from the node besides the counters: set as gauges, then encoded.
#[derive(Debug, Default)]
pub struct Scrape {
    /// The cluster's monitors by shown status, as this node sees them.
    pub summary: Summary,
    pub corrupt_records: u64,
    pub disk_bytes: u64,
    /// Members this node sees alive and dead (itself included).
    pub members_alive: usize,
    pub members_dead: usize,
    pub node: String,
    pub zone: String,
    /// The monitors this node tells (`api::overview` picks them).
    pub rows: Vec<Row>,
}

/// Every metric of a node. Cheap to share: each handle is an `Arc` inside.
pub struct Metrics {
    registry: Registry,
    pub checks: Family<OutcomeLabel, Counter>,
    pub check_latency: Histogram,
    pub schedule_lag: Histogram,
    pub checks_skipped: Counter,
    pub prober_restarts: Counter,
    pub results_dropped: Counter,
    pub store_errors: Counter,
    pub peer_frames_rejected: Counter,
    pub peer_frames_dropped: Family<ReasonLabel, Counter>,
    pub peer_records_refused: Family<RefusalLabel, Counter>,
    pub peer_member_hints_dropped: Counter,
    pub definitions_refused: Family<KindLabel, Counter>,
    pub replication_lag: Histogram,
    pub peer_batches_dropped: Counter,
    pub peer_bytes_sent: Counter,
    pub peer_results_sent: Counter,
    pub second_opinions: Family<VerdictLabel, Counter>,
    pub notifications: Family<OutcomeLabel, Counter>,
    /// Per monitor and zone, from every result recorded (for the per-monitor series).
    pub tally: Tally,
    monitors: Family<StatusLabel, Gauge>,
    monitors_exposed: Gauge,
    members: Family<StateLabel, Gauge>,
    info: Family<InfoLabel, Gauge>,
    corrupt_records: Gauge,
    disk_bytes: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ringwatch");
        let m = Metrics {
            checks: Family::default(),
            check_latency: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            schedule_lag: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            checks_skipped: Counter::default(),
            prober_restarts: Counter::default(),
            results_dropped: Counter::default(),
            store_errors: Counter::default(),
            peer_frames_rejected: Counter::default(),
            peer_frames_dropped: Family::default(),
            peer_records_refused: Family::default(),
            peer_member_hints_dropped: Counter::default(),
            definitions_refused: Family::default(),
            replication_lag: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            peer_batches_dropped: Counter::default(),
            peer_bytes_sent: Counter::default(),
            peer_results_sent: Counter::default(),
            second_opinions: Family::default(),
            notifications: Family::default(),
            tally: Tally::default(),
            monitors: Family::default(),
            monitors_exposed: Gauge::default(),
            members: Family::default(),
            info: Family::default(),
            corrupt_records: Gauge::default(),
            disk_bytes: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("checks", "Checks by outcome", m.checks.clone());
        registry.register(
            "check_latency_seconds",
            "Check duration, request to capped body",
            m.check_latency.clone(),
        );
        registry.register(
            "schedule_lag_seconds",
            "Actual check start minus planned start",
            m.schedule_lag.clone(),
        );
        registry.register(
            "checks_skipped",
            "Checks not started because the previous one of the monitor still ran",
            m.checks_skipped.clone(),
        );
        registry.register(
            "prober_restarts",
            "Prober actors restarted after a failure",
            m.prober_restarts.clone(),
        );
        registry.register(
            "results_dropped",
            "Results not stored because the store failed",
            m.results_dropped.clone(),
        );
        registry.register(
            "store_errors",
            "Failed store writes",
            m.store_errors.clone(),
        );
        registry.register(
            "monitors",
            "Monitors of the cluster by status, as this node sees them",
            m.monitors.clone(),
        );
        registry.register(
            "monitors_exposed",
            "Monitors whose per-monitor series this node exposes (the ones it owns)",
            m.monitors_exposed.clone(),
        );
        registry.register(
            "cluster_members",
            "Members of the cluster as this node sees them, itself included, by state: alive \
             or dead",
            m.members.clone(),
        );
        registry.register(
            "node_info",
            "This node's name, zone and version; always 1",
            m.info.clone(),
        );
        registry.register(
            "second_opinions",
            "Second-opinion checks answered by a peer, by verdict",
            m.second_opinions.clone(),
        );
        registry.register(
            "notifications",
            "Notification attempts sent by this node: delivered, retry or given_up",
            m.notifications.clone(),
        );
        registry.register(
            "replication_lag_seconds",
            "Time from the end of a probe on a peer to its result stored here",
            m.replication_lag.clone(),
        );
        registry.register(
            "peer_batches_dropped",
            "Result batches not sent to a peer that fell behind (repaired by catch-up)",
            m.peer_batches_dropped.clone(),
        );
        registry.register(
            "peer_bytes_sent",
            "Bytes of frames sent to peers (all kinds, counted once per receiving peer)",
            m.peer_bytes_sent.clone(),
        );
        registry.register(
            "peer_results_sent",
            "Results sent to peers in live gossip (counted once per receiving peer)",
            m.peer_results_sent.clone(),
        );
        registry.register(
            "peer_frames_rejected",
            "Frames from peers dropped because they failed to decode",
            m.peer_frames_rejected.clone(),
        );
        registry.register(
            "peer_frames_dropped",
            "Frames from peers dropped whole, by reason: undecodable, unauthenticated (by no \
             session), wrong_sender (from another node than the session's peer), from_self",
            m.peer_frames_dropped.clone(),
        );
        registry.register(
            "peer_records_refused",
            "Results, status changes and rollups from peers not taken, by kind and reason: \
             future (more than the clock skew bound ahead), wrong_origin (sent as the sender's \
             own but naming another node), out_of_range",
            m.peer_records_refused.clone(),
        );
        registry.register(
            "peer_member_hints_dropped",
            "Members peers named in heartbeats that were not adopted: never heard from \
             first-hand within a minute, or named while 64 such were pending",
            m.peer_member_hints_dropped.clone(),
        );
        registry.register(
            "definitions_refused",
            "Definitions from peers not merged: undecodable, revision too far in the future, \
             too large, or invalid (by kind)",
            m.definitions_refused.clone(),
        );
        registry.register(
            "store_corrupt_records",
            "Stored records this build cannot read: skipped because they failed to decode, \
             or written by a newer version (kept on disk, counted once per start)",
            m.corrupt_records.clone(),
        );
        registry.register(
            "store_disk_bytes",
            "Bytes the store uses on disk",
            m.disk_bytes.clone(),
        );
        // Counters with a fixed set of labels start at 0, so `increase()` sees the first
        // event and the rules about them have a series to read from the start.
        for outcome in ["delivered", "retry", "given_up"] {
            let _ = m.notifications.get_or_create(&OutcomeLabel { outcome });
        }
        for verdict in ["up", "down"] {
            let _ = m.second_opinions.get_or_create(&VerdictLabel { verdict });
        }
        Metrics { registry, ..m }
    }

    /// Renders the exposition in `format`, after setting the gauges read at scrape time.
    pub fn render(&self, scrape: Scrape, format: Format) -> String {
        let summary = scrape.summary;
        for (status, n) in [
            ("up", summary.up),
            ("down", summary.down),
            ("pending", summary.pending),
            ("paused", summary.paused),
            ("maintenance", summary.maintenance),
        ] {
            self.monitors
                .get_or_create(&StatusLabel { status })
                .set(n as i64);
        }
        for (state, n) in [
            ("alive", scrape.members_alive),
            ("dead", scrape.members_dead),
        ] {
            self.members
                .get_or_create(&StateLabel { state })
                .set(n as i64);
        }
        let info = InfoLabel {
            node: scrape.node,
            zone: scrape.zone,
            version: env!("CARGO_PKG_VERSION"),
        };
        self.info.get_or_create(&info).set(1);
        self.monitors_exposed.set(scrape.rows.len() as i64);
        self.corrupt_records.set(scrape.corrupt_records as i64);
        self.disk_bytes.set(scrape.disk_bytes as i64);

        let mut per_monitor = Registry::with_prefix("ringwatch");
        per_monitor.register_collector(Box::new(MonitorFamilies(scrape.rows)));
        // Writing into a String cannot fail. Each encoding ends with `# EOF`: the first goes.
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out.truncate(out.trim_end_matches("# EOF\n").len());
        let _ = prometheus_client::encoding::text::encode(&mut out, &per_monitor);
        match format {
            Format::OpenMetrics => out,
            Format::Classic => exposition::to_classic(&out),
        }
    }
}
