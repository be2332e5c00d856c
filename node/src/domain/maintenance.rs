//! Maintenance windows: what a valid one is, and the deterministic core that says, for an
//! instant given as plain unix ms, which monitors are in maintenance and which occurrence of a
//! window covers it or comes next. No clock is read here: callers pass `now`.
//!
//! A window is one-off (`start_ms` to `end_ms`) or recurring: a 5-field cron expression
//! (minute, hour, day of month, month, day of week; `croner`'s syntax, which also takes
//! `L`, `W` and `#`) evaluated on the wall clock of an IANA time zone (`jiff`'s bundled copy of
//! the tz database, so every node reads the same rules), each occurrence lasting
//! `duration_secs` of elapsed time.
//!
//! Daylight saving time, for a cron with a fixed minute and hour (`30 2 * * SUN`):
//! - a local time that does not exist (the clock jumps from 02:00 to 03:00) starts the window
//!   at the first instant after the gap, 03:00 local that day: the window is not skipped;
//! - a local time that occurs twice (the clock goes back from 03:00 to 02:00) starts the
//!   window once, at the first of the two (still on summer time).
//!
//! Wildcard or step hours (`*/15 * * * *`) keep their matches outside a gap and match both
//! passes of a repeated hour, as cron does. The duration is elapsed time, so a window that
//! spans a change of clock ends `duration_secs` after it started, whatever the wall clock says.

use std::collections::{BTreeSet, HashSet};

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ringwatch_proto::{Maintenance, MaintenanceSchedule, MaintenanceScope};
use serde::{Deserialize, Serialize};

/// Longest window (one-off) or occurrence (recurring): 31 days; longer ones are refused (a
/// monitor out of service for longer can be paused).
pub const MAX_DURATION_SECS: u64 = 31 * 24 * 3600;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Most monitor ids one window lists (`"all"` covers any number).
pub const MAX_MONITORS: usize = 10_000;
/// Latest instant a one-off window may end: 9999-12-31, far past any real plan.
pub const MAX_INSTANT_MS: u64 = 253_402_300_799_000;
/// Longest cron expression or time zone name, in bytes.
pub const MAX_CRON_BYTES: usize = 200;
/// Time zone of a recurring window that names none.
pub const DEFAULT_TIMEZONE: &str = "UTC";
/// Most occurrences of one window counted over a queried range ([`Window::spans`]); past it
/// the later ones are not counted (a window every minute over 30 days is 43,200 spans: the
/// rest of a range that long is left as watched time).
pub const MAX_SPANS: usize = 50_000;

/// A half-open interval of unix ms: `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub start_ms: u64,
    pub end_ms: u64,
}

impl Span {
    pub fn contains(&self, t: u64) -> bool {
        (self.start_ms..self.end_ms).contains(&t)
    }
}

/// What a user writes for a window (API, config file), before validation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceInput {
    /// What the maintenance is, for people (1-200 characters).
    pub title: String,
    /// `"all"`, or a list of monitor ids.
    #[schema(value_type = serde_json::Value)]
    pub monitors: serde_json::Value,
    /// One-off: unix ms the window starts (with `end_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    /// One-off: unix ms the window ends (excluded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
    /// Recurring: a 5-field cron expression, e.g. `0 3 * * SUN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// Recurring: how long each occurrence lasts, in seconds (1 s to 31 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    /// Recurring: the IANA time zone the cron is read in, e.g. `Europe/Berlin` (default UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// `false` keeps the window without effect (default `true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl MaintenanceInput {
    /// The input that makes `m` (for a PATCH, merged over it).
    pub fn of(m: &Maintenance) -> MaintenanceInput {
        let monitors = match &m.monitors {
            MaintenanceScope::All => serde_json::Value::from("all"),
            MaintenanceScope::Only(ids) => serde_json::Value::from(ids.clone()),
        };
        let mut input = MaintenanceInput {
            title: m.title.clone(),
            monitors,
            active: Some(m.active),
            ..MaintenanceInput::default()
        };
        match &m.schedule {
            MaintenanceSchedule::Once { start_ms, end_ms } => {
                input.start_ms = Some(*start_ms);
                input.end_ms = Some(*end_ms);
            }
            MaintenanceSchedule::Recurring {
                cron,
                duration_secs,
                timezone,
            } => {
                input.cron = Some(cron.clone());
                input.duration_secs = Some(*duration_secs);
                input.timezone = Some(timezone.clone());
            }
        }
        input
    }

    /// The window this input describes (id, revision and creation time left for the caller),
    /// or why it is not one, for a person.
    pub fn into_maintenance(self) -> Result<Maintenance, String> {
        let title = self.title.trim().to_owned();
        let chars = title.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
            return Err(format!(
                "title must be 1-{MAX_TITLE_CHARS} characters without control characters"
            ));
        }
        let schedule = self.schedule()?;
        let m = Maintenance {
            id: String::new(),
            title,
            monitors: scope(&self.monitors)?,
            schedule,
            active: self.active.unwrap_or(true),
            created_ms: 0,
            rev: Default::default(),
            deleted: false,
        };
        validate(&m)?;
        Ok(m)
    }

    fn schedule(&self) -> Result<MaintenanceSchedule, String> {
        let once = self.start_ms.is_some() || self.end_ms.is_some();
        let recurring =
            self.cron.is_some() || self.duration_secs.is_some() || self.timezone.is_some();
        match (once, recurring) {
            (true, true) => Err(
                "a window is either one-off (start_ms, end_ms) or recurring \
                 (cron, duration_secs, timezone), not both"
                    .into(),
            ),
            (false, false) => Err("a window needs start_ms and end_ms, or a cron and \
                 duration_secs"
                .into()),
            (true, false) => match (self.start_ms, self.end_ms) {
                (Some(start_ms), Some(end_ms)) => {
                    Ok(MaintenanceSchedule::Once { start_ms, end_ms })
                }
                _ => Err("a one-off window needs both start_ms and end_ms".into()),
            },
            (false, true) => match (&self.cron, self.duration_secs) {
                (Some(cron), Some(duration_secs)) => Ok(MaintenanceSchedule::Recurring {
                    cron: cron.trim().to_owned(),
                    duration_secs,
                    timezone: self
                        .timezone
                        .clone()
                        .unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned()),
                }),
                _ => Err("a recurring window needs both cron and duration_secs".into()),
            },
        }
    }
}

/// `"all"` or a list of ids, sorted and without repeats.
fn scope(v: &serde_json::Value) -> Result<MaintenanceScope, String> {
    const RULE: &str = "monitors must be \"all\" or a list of monitor ids";
    match v {
        serde_json::Value::String(s) if s == "all" => Ok(MaintenanceScope::All),
        serde_json::Value::Array(items) => {
            let ids = items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).ok_or(RULE))
                .collect::<Result<BTreeSet<String>, _>>()?;
            Ok(MaintenanceScope::Only(ids.into_iter().collect()))
        }
        _ => Err(RULE.into()),
    }
}

/// The rules every window meets, whether from the API, the config file or a peer.
pub fn validate(m: &Maintenance) -> Result<(), String> {
    if let MaintenanceScope::Only(ids) = &m.monitors {
        if ids.is_empty() {
            return Err("monitors must list at least one monitor id, or be \"all\"".into());
        }
        if ids.len() > MAX_MONITORS {
            return Err(format!("monitors may list at most {MAX_MONITORS} ids"));
        }
        if let Some(bad) = ids.iter().find(|id| !super::names::is_plain_name(id)) {
            return Err(format!("{bad:?} is not a monitor id"));
        }
    }
    match &m.schedule {
        MaintenanceSchedule::Once { start_ms, end_ms } => {
            if end_ms <= start_ms {
                return Err("end_ms must be after start_ms".into());
            }
            if *end_ms > MAX_INSTANT_MS {
                return Err("end_ms is past the year 9999".into());
            }
            if end_ms - start_ms > MAX_DURATION_SECS * 1000 {
                return Err(too_long());
            }
        }
        MaintenanceSchedule::Recurring {
            cron,
            duration_secs,
            timezone,
        } => {
            if cron.len() > MAX_CRON_BYTES || timezone.len() > MAX_CRON_BYTES {
                return Err(format!(
                    "cron and timezone may be at most {MAX_CRON_BYTES} bytes"
                ));
            }
            if *duration_secs == 0 {
                return Err("duration_secs must be at least 1".into());
            }
            if *duration_secs > MAX_DURATION_SECS {
                return Err(too_long());
            }
            parse_cron(cron)?;
            time_zone(timezone)?;
        }
    }
    let bytes = ringwatch_proto::encoded_len(m);
    if bytes > super::spec::MAX_DEFINITION_BYTES {
        return Err(format!(
            "the window is {bytes} bytes encoded (at most {} accepted): list fewer monitors",
            super::spec::MAX_DEFINITION_BYTES
        ));
    }
    Ok(())
}

fn too_long() -> String {
    format!(
        "a window may last at most {} days",
        MAX_DURATION_SECS / 86_400
    )
}

/// A 5-field cron expression that matches at least once after 2000-01-01.
pub fn parse_cron(text: &str) -> Result<Cron, String> {
    let fields = text.split_whitespace().count();
    if fields != 5 {
        return Err(format!(
            "cron must have 5 fields (minute hour day-of-month month day-of-week), got {fields}: \
             {text:?}"
        ));
    }
    let cron = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(text)
        .map_err(|e| format!("cron {text:?} is not valid: {e}"))?;
    let y2k = Timestamp::from_second(946_684_800)
        .map_err(|e| e.to_string())?
        .to_zoned(TimeZone::UTC);
    cron.find_next_occurrence(&y2k, false)
        .map_err(|_| format!("cron {text:?} never matches"))?;
    Ok(cron)
}

/// An IANA time zone by name.
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name)
        .map_err(|_| format!("unknown time zone {name:?} (an IANA name, e.g. Europe/Berlin)"))
}

fn zoned(t_ms: u64, tz: &TimeZone) -> Option<jiff::Zoned> {
    let ts = Timestamp::from_millisecond(i64::try_from(t_ms).ok()?).ok()?;
    Some(ts.to_zoned(tz.clone()))
}

fn ms_of(z: &jiff::Zoned) -> Option<u64> {
    u64::try_from(z.timestamp().as_millisecond()).ok()
}

/// When a window is in force.
#[derive(Debug, Clone)]
enum Plan {
    Once(Span),
    Every {
        cron: Box<Cron>,
        tz: TimeZone,
        duration_ms: u64,
    },
}

/// One window, ready to be asked about instants.
#[derive(Debug, Clone)]
pub struct Window {
    pub id: String,
    scope: MaintenanceScope,
    plan: Plan,
}

impl Window {
    /// The window of a stored record; `Err` if it does not validate (a record of a newer
    /// build's rules, say): such a window covers nothing here.
    pub fn of(m: &Maintenance) -> Result<Window, String> {
        let plan = match &m.schedule {
            MaintenanceSchedule::Once { start_ms, end_ms } => Plan::Once(Span {
                start_ms: *start_ms,
                end_ms: *end_ms,
            }),
            MaintenanceSchedule::Recurring {
                cron,
                duration_secs,
                timezone,
            } => Plan::Every {
                cron: Box::new(parse_cron(cron)?),
                tz: time_zone(timezone)?,
                duration_ms: duration_secs.saturating_mul(1000),
            },
        };
        Ok(Window {
            id: m.id.clone(),
            scope: m.monitors.clone(),
            plan,
        })
    }

    /// Whether the window is about monitor `id`.
    pub fn applies_to(&self, id: &str) -> bool {
        match &self.scope {
            MaintenanceScope::All => true,
            MaintenanceScope::Only(ids) => ids.binary_search_by(|i| i.as_str().cmp(id)).is_ok(),
        }
    }

    /// The occurrence in force at `t`, if any. Occurrences of a recurrence all last as long,
    /// so the latest one started at or before `t` is the one that reaches furthest.
    pub fn covering(&self, t: u64) -> Option<Span> {
        match &self.plan {
            Plan::Once(span) => span.contains(t).then_some(*span),
            Plan::Every {
                cron,
                tz,
                duration_ms,
            } => {
                let start = cron.find_previous_occurrence(&zoned(t, tz)?, true).ok()?;
                let start_ms = ms_of(&start)?;
                let span = Span {
                    start_ms,
                    end_ms: start_ms.saturating_add(*duration_ms),
                };
                span.contains(t).then_some(span)
            }
        }
    }

    /// The first occurrence starting after `t`.
    pub fn next_after(&self, t: u64) -> Option<Span> {
        match &self.plan {
            Plan::Once(span) => (span.start_ms > t).then_some(*span),
            Plan::Every {
                cron,
                tz,
                duration_ms,
            } => {
                let start = cron.find_next_occurrence(&zoned(t, tz)?, false).ok()?;
                let start_ms = ms_of(&start)?;
                Some(Span {
                    start_ms,
                    end_ms: start_ms.saturating_add(*duration_ms),
                })
            }
        }
    }

    /// The occurrence in force at `t`, else the next one; `None` once a one-off has passed.
    pub fn current_or_next(&self, t: u64) -> Option<Span> {
        self.covering(t).or_else(|| self.next_after(t))
    }

    /// The occurrences that overlap `[from, to)`, in time order (at most [`MAX_SPANS`]; of
    /// those that started before `from`, only the latest, which covers the others' share).
    pub fn spans(&self, from: u64, to: u64) -> Vec<Span> {
        let overlaps = |s: &Span| s.start_ms < to && s.end_ms > from;
        match &self.plan {
            Plan::Once(span) => Some(*span).filter(overlaps).into_iter().collect(),
            Plan::Every {
                cron,
                tz,
                duration_ms,
            } => {
                let mut out = Vec::new();
                let Some(mut at) = zoned(from, tz) else {
                    return out;
                };
                // Of the occurrences started by `from`, the latest reaches furthest (they all
                // last as long): it is the only one of them that matters.
                let before = cron.find_previous_occurrence(&at, true).ok();
                if let Some(start_ms) = before.as_ref().and_then(ms_of) {
                    let span = Span {
                        start_ms,
                        end_ms: start_ms.saturating_add(*duration_ms),
                    };
                    if overlaps(&span) {
                        out.push(span);
                    }
                }
                while out.len() < MAX_SPANS {
                    let Ok(next) = cron.find_next_occurrence(&at, false) else {
                        break;
                    };
                    let Some(start_ms) = ms_of(&next) else {
                        break;
                    };
                    if start_ms >= to {
                        break;
                    }
                    let span = Span {
                        start_ms,
                        end_ms: start_ms.saturating_add(*duration_ms),
                    };
                    if overlaps(&span) {
                        out.push(span);
                    }
                    at = next;
                }
                out
            }
        }
    }
}

/// The monitors in maintenance at one instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Covered {
    #[default]
    Nothing,
    All,
    Only(HashSet<String>),
}

impl Covered {
    pub fn contains(&self, id: &str) -> bool {
        match self {
            Covered::Nothing => false,
            Covered::All => true,
            Covered::Only(ids) => ids.contains(id),
        }
    }
}

/// Every active window of the cluster, compiled once for a batch of questions.
#[derive(Debug, Clone, Default)]
pub struct Windows {
    windows: Vec<Window>,
}

impl Windows {
    /// The active, live windows among `records`; one that does not compile is left out (and
    /// named in the error list, for a log line).
    pub fn new<'a>(records: impl IntoIterator<Item = &'a Maintenance>) -> (Windows, Vec<String>) {
        let mut windows = Vec::new();
        let mut bad = Vec::new();
        for m in records.into_iter().filter(|m| m.active && !m.deleted) {
            match Window::of(m) {
                Ok(w) => windows.push(w),
                Err(e) => bad.push(format!("{}: {e}", m.id)),
            }
        }
        (Windows { windows }, bad)
    }

    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }

    /// Whether monitor `id` is in maintenance at `t`.
    pub fn covers(&self, id: &str, t: u64) -> bool {
        self.windows
            .iter()
            .any(|w| w.applies_to(id) && w.covering(t).is_some())
    }

    /// The monitors in maintenance at `t`.
    pub fn at(&self, t: u64) -> Covered {
        let mut ids = HashSet::new();
        for w in self.windows.iter().filter(|w| w.covering(t).is_some()) {
            match &w.scope {
                MaintenanceScope::All => return Covered::All,
                MaintenanceScope::Only(only) => ids.extend(only.iter().cloned()),
            }
        }
        if ids.is_empty() {
            Covered::Nothing
        } else {
            Covered::Only(ids)
        }
    }

    /// The time monitor `id` spent in maintenance within `[from, to)`: sorted, disjoint
    /// spans clipped to the range (overlapping windows merged).
    pub fn spans_of(&self, id: &str, from: u64, to: u64) -> Vec<Span> {
        self.within(from, to).of(id)
    }

    /// Every window's occurrences within `[from, to)`, worked out once for the questions
    /// of many monitors about the same range (the list's figures).
    pub fn within(&self, from: u64, to: u64) -> SpansWithin<'_> {
        let spans = self
            .windows
            .iter()
            .map(|w| {
                w.spans(from, to)
                    .into_iter()
                    .map(|s| Span {
                        start_ms: s.start_ms.max(from),
                        end_ms: s.end_ms.min(to),
                    })
                    .collect()
            })
            .collect();
        SpansWithin {
            windows: &self.windows,
            spans,
        }
    }
}

/// The occurrences of every window within one range ([`Windows::within`]).
#[derive(Debug)]
pub struct SpansWithin<'a> {
    windows: &'a [Window],
    /// Per window, its occurrences clipped to the range.
    spans: Vec<Vec<Span>>,
}

impl SpansWithin<'_> {
    /// The time monitor `id` spent in maintenance in the range: sorted, disjoint spans.
    pub fn of(&self, id: &str) -> Vec<Span> {
        let mut all: Vec<Span> = self
            .windows
            .iter()
            .zip(&self.spans)
            .filter(|(w, _)| w.applies_to(id))
            .flat_map(|(_, spans)| spans.iter().copied())
            .collect();
        all.sort();
        let mut merged: Vec<Span> = Vec::with_capacity(all.len());
        for s in all {
            match merged.last_mut() {
                Some(last) if s.start_ms <= last.end_ms => last.end_ms = last.end_ms.max(s.end_ms),
                _ => merged.push(s),
            }
        }
        merged
    }
}

/// A window of the config file (`[[maintenance]]`): a fixed id, then the fields of
/// `POST /api/maintenance` (the same [`MaintenanceInput`], checked the same way).
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceSeed {
    pub id: String,
    pub input: MaintenanceInput,
}

impl<'de> Deserialize<'de> for MaintenanceSeed {
    /// `id` plus the input's fields in one table (not a flatten: serde cannot refuse unknown
    /// fields through one, and a misspelt key must not be ignored).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let id = match fields.remove("id") {
            Some(serde_json::Value::String(id)) => id,
            Some(other) => return Err(D::Error::custom(format!("id must be text, got {other}"))),
            None => return Err(D::Error::missing_field("id")),
        };
        let input = MaintenanceInput::deserialize(serde_json::Value::Object(fields))
            .map_err(|e| D::Error::custom(format!("maintenance window {id:?}: {e}")))?;
        Ok(MaintenanceSeed { id, input })
    }
}

impl MaintenanceSeed {
    /// The record, validated like an API request, with revision and creation time zero so
    /// every node's copy of the file makes the same record and any later edit wins over it.
    pub fn to_maintenance(&self) -> Result<Maintenance, String> {
        if !super::names::is_plain_name(&self.id) {
            return Err(format!("needs an id of {}", super::names::PLAIN_NAME_RULE));
        }
        let mut m = self.input.clone().into_maintenance()?;
        m.id = self.id.clone();
        Ok(m)
    }
}

#[cfg(test)]
mod tests;
