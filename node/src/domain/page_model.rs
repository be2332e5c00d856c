//! What a status page shows, computed from what the node knows of each monitor: a pure core
//! (no store, no clock) that the HTML page and its JSON twin are both made from.
//!
//! The rules, each in one place here:
//! - **Overall state** ([`overall`]): of the monitors shown, only those `up` or `down` are
//!   rated (pending, paused, maintenance and any other state are not an outage). None down:
//!   "All systems operational"; more than half of the rated ones down: "Major outage";
//!   otherwise "Partial outage".
//! - **Daily bars**: the last [`DAYS`] UTC days, today last, each the monitor's availability
//!   that day from its status timeline (`domain::uptime::daily`); a day with nothing
//!   observed (before the monitor existed, or paused or in maintenance all day) has no
//!   uptime. Maintenance time counts neither as up nor as down, in the bars and the 90 days.
//! - **Incidents**: down periods that overlap the last [`INCIDENT_DAYS`] days, newest first.
//! - **Details**: a monitor's URL and last error are in the model only if the page shows
//!   details; nothing else of a monitor's definition ever is.

use ringwatch_proto::Status;
use serde::Serialize;

use super::maintenance::Span;
use super::status::ShownStatus;
use super::uptime::{self, Availability, DAY_MS};

/// Days of the availability bar, today included.
pub const DAYS: u32 = 90;
/// Days back the incident list reaches.
pub const INCIDENT_DAYS: u64 = 14;

/// The page's overall state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    Operational,
    PartialOutage,
    MajorOutage,
}

impl Overall {
    pub fn text(self) -> &'static str {
        match self {
            Overall::Operational => "All systems operational",
            Overall::PartialOutage => "Partial outage",
            Overall::MajorOutage => "Major outage",
        }
    }
}

/// The overall state of monitors in these states (module doc).
pub fn overall(states: impl IntoIterator<Item = ShownStatus>) -> Overall {
    let (mut rated, mut down) = (0usize, 0usize);
    for s in states {
        match s {
            ShownStatus::Up => rated += 1,
            ShownStatus::Down => (rated, down) = (rated + 1, down + 1),
            _ => {}
        }
    }
    if down == 0 {
        Overall::Operational
    } else if down * 2 > rated {
        Overall::MajorOutage
    } else {
        Overall::PartialOutage
    }
}

/// One down period, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    pub start_ms: u64,
    /// `None` while it lasts.
    pub end_ms: Option<u64>,
    pub duration_ms: u64,
    /// Why, shown only with details.
    pub cause: String,
}

/// What the node knows of one monitor on the page.
#[derive(Debug, Clone)]
pub struct MonitorFacts {
    pub id: String,
    /// The name as shown; `None` when the monitor's name is its URL (it then shows as
    /// "Monitor {id}" unless the page shows details).
    pub name: Option<String>,
    /// The URL as shown (secrets redacted).
    pub url: String,
    /// The state the API's monitor view gives (`maintenance` included).
    pub status: ShownStatus,
    /// The newest result's error, if it failed.
    pub last_error: Option<String>,
    /// The status timeline (`history::query::timeline`).
    pub changes: Vec<(u64, Status)>,
    /// Its down periods, newest first (`alert::incidents`).
    pub outages: Vec<Outage>,
    /// The maintenance windows' time over the last [`DAYS`], sorted (`Windows::spans_of`).
    pub maintenance: Vec<Span>,
}

/// One day of a monitor's bar.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DayBar {
    /// Unix ms of the day's start (UTC midnight).
    pub day_ms: u64,
    /// Share of the observed time not down (0..1); `null` when nothing was observed.
    pub uptime: Option<f64>,
    pub down_ms: u64,
    /// Down periods overlapping the day.
    pub incidents: u32,
}

impl DayBar {
    fn of(day_ms: u64, a: &Availability) -> DayBar {
        DayBar {
            day_ms,
            uptime: a.uptime.map(round4),
            down_ms: a.down_ms,
            incidents: a.incidents,
        }
    }

    /// `ok` (no down time), `minor` (at least 99%), `major` (less) or `none` (no data).
    pub fn grade(&self) -> &'static str {
        match self.uptime {
            None => "none",
            Some(_) if self.down_ms == 0 => "ok",
            Some(u) if u >= 0.99 => "minor",
            Some(_) => "major",
        }
    }
}

/// A ratio to 4 decimals (percentages to 2).
fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// One monitor's row.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonitorRow {
    pub id: String,
    pub name: String,
    /// `up`, `down`, `pending`, `paused`, or another state a later build adds.
    pub status: String,
    /// Over the last 90 days; `null` when nothing was observed.
    pub uptime_90d: Option<f64>,
    /// The last 90 UTC days, oldest first.
    pub days: Vec<DayBar>,
    /// Only when the page shows details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Only when the page shows details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// One group of rows.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct GroupView {
    pub name: String,
    pub monitors: Vec<MonitorRow>,
}

/// One incident of the list.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IncidentRow {
    pub monitor_id: String,
    pub monitor: String,
    pub start_ms: u64,
    /// `null` while it lasts.
    pub end_ms: Option<u64>,
    /// Milliseconds down: to the end, or to now while it lasts.
    pub duration_ms: u64,
    /// Only when the page shows details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
}

/// A group of the page with the facts of its monitors (unknown ones left out).
pub struct GroupFacts {
    pub name: String,
    pub monitors: Vec<MonitorFacts>,
}

/// The groups' rows, the overall state and the incidents of the last days, at `now_ms`.
pub struct Model {
    pub overall: Overall,
    pub groups: Vec<GroupView>,
    pub incidents: Vec<IncidentRow>,
}

/// Builds the model of a page (module doc).
pub fn build(groups: &[GroupFacts], show_details: bool, now_ms: u64) -> Model {
    let since = now_ms.saturating_sub(INCIDENT_DAYS * DAY_MS);
    let mut incidents = Vec::new();
    let mut states = Vec::new();
    // A monitor in two groups shows twice but counts, and lists its incidents, once.
    let mut seen = std::collections::HashSet::new();
    let mut views = Vec::with_capacity(groups.len());
    for g in groups {
        let mut rows = Vec::with_capacity(g.monitors.len());
        for m in &g.monitors {
            let row = row(m, show_details, now_ms);
            if seen.insert(m.id.as_str()) {
                states.push(m.status);
                let recent = m
                    .outages
                    .iter()
                    .filter(|o| o.end_ms.is_none_or(|e| e > since));
                incidents.extend(recent.map(|o| IncidentRow {
                    monitor_id: m.id.clone(),
                    monitor: row.name.clone(),
                    start_ms: o.start_ms,
                    end_ms: o.end_ms,
                    duration_ms: o.duration_ms,
                    cause: show_details.then(|| o.cause.clone()),
                }));
            }
            rows.push(row);
        }
        views.push(GroupView {
            name: g.name.clone(),
            monitors: rows,
        });
    }
    incidents.sort_by(|a, b| (b.start_ms, &b.monitor_id).cmp(&(a.start_ms, &a.monitor_id)));
    Model {
        overall: overall(states),
        groups: views,
        incidents,
    }
}

/// One monitor's row: its state, the daily bars of the last [`DAYS`] and the uptime over them.
fn row(m: &MonitorFacts, show_details: bool, now_ms: u64) -> MonitorRow {
    let today = now_ms - now_ms % DAY_MS;
    let first_day = today.saturating_sub(u64::from(DAYS - 1) * DAY_MS);
    let window_start = now_ms.saturating_sub(u64::from(DAYS) * DAY_MS);
    let days = uptime::daily(&m.changes, first_day, DAYS, now_ms, &m.maintenance);
    MonitorRow {
        id: m.id.clone(),
        name: shown_name(m, show_details),
        status: m.status.as_str().to_owned(),
        uptime_90d: uptime::availability_outside(
            &m.changes,
            window_start,
            now_ms,
            now_ms,
            &m.maintenance,
        )
        .uptime
        .map(round4),
        days: (0..)
            .zip(&days)
            .map(|(i, a)| DayBar::of(first_day + i * DAY_MS, a))
            .collect(),
        url: show_details.then(|| m.url.clone()),
        last_error: m.last_error.clone().filter(|_| show_details),
    }
}

fn shown_name(m: &MonitorFacts, show_details: bool) -> String {
    match &m.name {
        Some(name) => name.clone(),
        None if show_details => m.url.clone(),
        None => format!("Monitor {}", m.id),
    }
}

#[cfg(test)]
mod tests;
