//! Handlers of the node-wide views: `/healthz`, `/api/summary`, `/api/cluster`, `/metrics`.
//! Each JSON answer is a typed struct, so the OpenAPI document and the answer share one shape.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;
use warp::http::HeaderValue;
use warp::reply::{Json, Reply, Response, json};

use crate::clock::now_ms;
use crate::context::{Ctx, MemberView};
use crate::domain::secret;
use crate::metrics::Scrape;
use crate::metrics::exposition::{self, Format};
use crate::metrics::monitors::Row;

/// The answer of `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `true`: the node serves.
    pub ok: bool,
}

/// Monitor counts by status, and who answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Summary {
    /// Every monitor.
    pub total: usize,
    pub up: usize,
    pub down: usize,
    pub pending: usize,
    pub paused: usize,
    /// Active monitors a maintenance window covers now (not counted as up, down or pending).
    pub maintenance: usize,
    /// Name of the node that answered.
    pub node: String,
    /// Version of the node that answered.
    pub version: &'static str,
}

/// One node's view of the cluster.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterView {
    /// Name of the node that answered.
    pub node: String,
    /// Names of the nodes it considers alive, which share the probing work.
    pub alive: Vec<String>,
    /// Every known member, alive or not.
    pub nodes: Vec<NodeView>,
    /// The zones of the known members, by name, each with its members and which are alive.
    /// A zone none of whose members is alive is `unreachable`.
    pub zones: Vec<ZoneView>,
}

/// One zone of the cluster: the nodes that probe from one location.
#[derive(Debug, Serialize, ToSchema)]
pub struct ZoneView {
    pub name: String,
    /// Every known member of the zone, alive or not, by name.
    pub members: Vec<String>,
    /// Those of them alive.
    pub alive: Vec<String>,
    /// `true` while no member of the zone is alive.
    pub unreachable: bool,
}

/// One member of the cluster, as the answering node sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NodeView {
    pub name: String,
    /// The zone it probes from.
    pub zone: String,
    /// Its HTTP address.
    pub http: String,
    /// Its cluster (peer) address.
    pub cluster: String,
    pub alive: bool,
    /// Whether this member is the node that answered.
    #[serde(rename = "self")]
    pub is_self: bool,
    /// Unix ms of the last message from it.
    pub last_heard_ms: u64,
    /// Monitors it probes now; 0 while it is not alive.
    pub monitors_owned: usize,
}

/// Liveness: 200 once the node serves HTTP.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "node",
    responses((status = 200, description = "The node serves", body = Health)),
)]
pub fn healthz() -> Json {
    json(&Health { ok: true })
}

/// Monitor counts by status (cluster-wide), with the answering node's name and version.
#[utoipa::path(
    get,
    path = "/api/summary",
    tag = "node",
    responses(
        (status = 200, description = "Counts of monitors by status", body = Summary),
    ),
)]
pub fn summary(c: Ctx) -> Json {
    let s = c
        .live
        .summary(&c.maintenance_windows().at(crate::clock::now_ms()));
    json(&Summary {
        total: s.total,
        up: s.up,
        down: s.down,
        pending: s.pending,
        paused: s.paused,
        maintenance: s.maintenance,
        node: c.name.clone(),
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// This node's view of the cluster: members, alive or not, and the monitors each probes.
#[utoipa::path(
    get,
    path = "/api/cluster",
    tag = "node",
    responses(
        (status = 200, description = "The cluster as this node sees it", body = ClusterView),
    ),
)]
pub fn cluster(c: Ctx) -> Json {
    json(&cluster_view(&c))
}

/// Prometheus metrics: this node's own series, and those of the monitors it owns (each
/// monitor is told by one node of the cluster). OpenMetrics when the `Accept` header asks for
/// it, else the classic text format 0.0.4.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "node",
    responses(
        (status = 200, description = "The exposition: OpenMetrics 1.0 when asked for, else the Prometheus text format 0.0.4", content(
            (String = "text/plain"),
            (String = "application/openmetrics-text"),
        )),
    ),
)]
pub fn metrics(c: Ctx, accept: Option<String>, accept_encoding: Option<String>) -> Response {
    let now = crate::clock::now_ms();
    let format = Format::negotiate(accept.as_deref());
    let (members_alive, members_dead) = {
        let members = c.members.read().unwrap_or_else(|p| p.into_inner());
        let alive = members.iter().filter(|m| m.alive).count();
        (alive.max(1), members.len().saturating_sub(alive))
    };
    let scrape = Scrape {
        summary: c.live.summary(&c.maintenance_windows().at(now)),
        corrupt_records: c.store.corrupt_records(),
        disk_bytes: c.store.disk_bytes(),
        members_alive,
        members_dead,
        node: c.name.clone(),
        zone: c.config.zone.clone(),
        rows: monitor_rows(&c, now),
    };
    let text = c.metrics.render(scrape, format);
    let mut response = if exposition::accepts_gzip(accept_encoding.as_deref()) {
        let mut response = exposition::gzip(&text).into_response();
        response
            .headers_mut()
            .insert("content-encoding", HeaderValue::from_static("gzip"));
        response
    } else {
        text.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert("vary", HeaderValue::from_static("accept, accept-encoding"));
    response
}

/// The per-monitor rows of `/metrics`: the monitors this node owns, once it has heard the
/// cluster; none when `metrics_per_monitor` is off. Sorted by id.
fn monitor_rows(ctx: &Ctx, now_ms: u64) -> Vec<Row> {
    if !ctx.config.metrics_per_monitor {
        return Vec::new();
    }
    let ownership = ctx.ownership();
    if !ownership.settled() {
        return Vec::new();
    }
    let covered = ctx.maintenance_windows().at(now_ms);
    let sight = crate::live::ZoneSight::of(&ownership);
    let mut rows = Vec::new();
    ctx.live.each(|e| {
        if ownership.owner(&e.monitor.id) != Some(ctx.name.as_str()) {
            return;
        }
        let status = e.status();
        let zone_up = sight
            .statuses(e)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(z, s)| match s {
                "up" => Some((z, true)),
                "down" => Some((z, false)),
                _ => None,
            })
            .collect();
        rows.push(Row {
            id: e.monitor.id.clone(),
            // As shown everywhere: a name defaulted from the URL without its password, and
            // no secret header value or body in it.
            name: secret::monitor_name(&e.monitor, &secret::monitor_secrets(&e.monitor))
                .into_owned(),
            shown: e.shown(&covered),
            zone_up,
            uptime_24h: e.figures.uptime_24h(status, now_ms),
            uptime_30d: e.figures.uptime_30d(status, now_ms),
            zones: Vec::new(),
        });
    });
    ctx.metrics.tally.retain(|id| ctx.live.contains(id));
    for row in &mut rows {
        row.zones = ctx.metrics.tally.of(&row.id);
    }
    rows.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    rows
}

fn cluster_view(c: &Ctx) -> ClusterView {
    let ownership = c.ownership();
    let probed = c.live.probed();
    let counts = ownership.counts(probed.iter().map(|m| m.id.as_str()));
    let owned: HashMap<&str, usize> = ownership
        .alive()
        .iter()
        .map(String::as_str)
        .zip(counts)
        .collect();
    let mut members = c.members.read().unwrap_or_else(|p| p.into_inner()).clone();
    if members.is_empty() {
        members.push(MemberView {
            name: c.name.clone(),
            zone: c.config.zone.clone(),
            http: c.http_addr.get().unwrap_or(&c.config.http).to_string(),
            cluster: c
                .cluster_addr
                .get()
                .unwrap_or(&c.config.cluster)
                .to_string(),
            alive: true,
            last_heard_ms: now_ms(),
        });
    }
    let zones = zone_views(&members);
    let nodes = members
        .into_iter()
        .map(|m| NodeView {
            monitors_owned: if m.alive {
                owned.get(m.name.as_str()).copied().unwrap_or(0)
            } else {
                0
            },
            is_self: m.name == c.name,
            name: m.name,
            zone: m.zone,
            http: m.http,
            cluster: m.cluster,
            alive: m.alive,
            last_heard_ms: m.last_heard_ms,
        })
        .collect();
    ClusterView {
        node: c.name.clone(),
        alive: ownership.alive().to_vec(),
        nodes,
        zones,
    }
}

/// The members grouped by zone, zones and members by name.
fn zone_views(members: &[MemberView]) -> Vec<ZoneView> {
    let mut zones: std::collections::BTreeMap<&str, ZoneView> = Default::default();
    for m in members {
        let z = zones.entry(&m.zone).or_insert_with(|| ZoneView {
            name: m.zone.clone(),
            members: Vec::new(),
            alive: Vec::new(),
            unreachable: true,
        });
        z.members.push(m.name.clone());
        if m.alive {
            z.alive.push(m.name.clone());
            z.unreachable = false;
        }
    }
    zones
        .into_values()
        .map(|mut z| {
            z.members.sort();
            z.alive.sort();
            z
        })
        .collect()
}
