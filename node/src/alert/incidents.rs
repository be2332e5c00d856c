//! Incidents: the down periods of a monitor, made from its status changes.

use ringwatch_proto::{Delivery, DeliveryAttempt, Status, Transition};
use serde::Serialize;

use crate::domain::outbox::Key;

/// One down period. `end_ms` is `None` while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Incident {
    pub start_ms: u64,
    pub end_ms: Option<u64>,
    /// Milliseconds down: up to the end, or up to `now_ms` while it lasts.
    pub duration_ms: u64,
    /// Why it went down (the failing probe, and the second opinion).
    pub cause: String,
    /// Who decided it was down, and who confirmed.
    pub node: String,
    pub confirmed_by: Option<String>,
    /// The notifications of its start and end, per channel.
    pub alerts: Vec<Alert>,
}

/// One notification of an incident's start (`down`) or end (`up`) to one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub status: Status,
    pub channel: String,
    /// `delivered`, `failed` (given up) or `pending`.
    pub outcome: &'static str,
    /// When it was delivered or given up.
    pub at_ms: Option<u64>,
    /// Attempts made: all of them once delivered or given up; while pending, the failed ones
    /// so far.
    pub attempts: u32,
    /// The error of the last failed attempt (`failed`, or `pending` after a failure).
    pub last_error: Option<String>,
    /// While pending after a failure: when the next attempt is due (unix ms).
    pub next_attempt_ms: Option<u64>,
    /// The node that sent it (or is retrying it).
    pub node: Option<String>,
}

/// The status change a pause (`to` = `Paused`), a resume or a new URL (`Pending`) makes on the
/// monitor's timeline: numbered after its last one, notifying nobody.
pub fn timeline_change(
    live: &crate::live::LiveEntry,
    to: Status,
    at_ms: u64,
    node: &str,
) -> Transition {
    let reason = if to == Status::Paused {
        "paused"
    } else {
        "resumed or changed"
    };
    let (name, url) = crate::domain::secret::shown_name_and_url(&live.monitor);
    Transition {
        monitor_id: live.monitor.id.clone(),
        name,
        url,
        seq: live.state.seq + 1,
        from: live.state.status,
        to,
        at_ms,
        reason: reason.into(),
        node: node.to_owned(),
        confirmed_by: None,
        last_result: None,
        channels: Vec::new(),
        zones_down: Vec::new(),
        zones_reachable: 0,
    }
}

fn alerts(
    t: &Transition,
    deliveries: &[Delivery],
    pending: &impl Fn(&Key) -> Option<DeliveryAttempt>,
) -> Vec<Alert> {
    t.channels
        .iter()
        .map(|channel| {
            let d = deliveries
                .iter()
                .find(|d| d.seq == t.seq && d.channel == *channel);
            let alert = Alert {
                status: t.to,
                channel: channel.clone(),
                outcome: "pending",
                at_ms: None,
                attempts: 0,
                last_error: None,
                next_attempt_ms: None,
                node: None,
            };
            match d {
                Some(d) => Alert {
                    outcome: if d.failed.is_some() {
                        "failed"
                    } else {
                        "delivered"
                    },
                    at_ms: Some(d.at_ms),
                    attempts: d.attempts,
                    last_error: d.failed.clone(),
                    node: Some(d.node.clone()),
                    ..alert
                },
                None => match pending(&(t.monitor_id.clone(), t.seq, channel.clone())) {
                    Some(a) => Alert {
                        at_ms: Some(a.at_ms),
                        attempts: a.attempts,
                        last_error: Some(a.last_error),
                        next_attempt_ms: Some(a.next_attempt_ms),
                        node: Some(a.node),
                        ..alert
                    },
                    None => alert,
                },
            }
        })
        .collect()
}

/// The incidents in `transitions` (one monitor's, in seq order) with the notifications
/// recorded in `deliveries`, newest first. `pending` tells how a notification that is not
/// delivered yet stands (see [`crate::state::attempts`]).
pub fn incidents(
    transitions: &[Transition],
    deliveries: &[Delivery],
    pending: impl Fn(&Key) -> Option<DeliveryAttempt>,
    now_ms: u64,
) -> Vec<Incident> {
    let mut out: Vec<Incident> = Vec::new();
    for t in transitions {
        let open = out.last_mut().filter(|i| i.end_ms.is_none());
        match (t.to, open) {
            (Status::Down, None) => out.push(Incident {
                start_ms: t.at_ms,
                end_ms: None,
                duration_ms: 0,
                cause: t.reason.clone(),
                node: t.node.clone(),
                confirmed_by: t.confirmed_by.clone(),
                alerts: alerts(t, deliveries, &pending),
            }),
            // Already down: a reminder, or a change from another partition side.
            (Status::Down, Some(open)) => open.alerts.extend(alerts(t, deliveries, &pending)),
            (_, Some(open)) => {
                open.end_ms = Some(t.at_ms.max(open.start_ms));
                open.alerts.extend(alerts(t, deliveries, &pending));
            }
            (_, None) => {}
        }
    }
    for i in &mut out {
        i.duration_ms = i.end_ms.unwrap_or(now_ms).saturating_sub(i.start_ms);
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seq: u64, to: Status, at_ms: u64) -> Transition {
        Transition {
            monitor_id: "m".into(),
            name: "m".into(),
            url: "http://x/".into(),
            seq,
            from: Status::Pending,
            to,
            at_ms,
            reason: format!("reason {seq}"),
            node: "n1".into(),
            confirmed_by: None,
            last_result: None,
            channels: vec!["hook".into()],
            zones_down: Vec::new(),
            zones_reachable: 0,
        }
    }

    #[test]
    fn pairs_downs_with_recoveries() {
        let ts = [
            t(1, Status::Up, 0),
            t(2, Status::Down, 100),
            t(3, Status::Up, 250),
            t(4, Status::Down, 900),
        ];
        let delivered = Delivery {
            monitor_id: "m".into(),
            seq: 2,
            channel: "hook".into(),
            at_ms: 101,
            node: "n1".into(),
            attempts: 2,
            failed: None,
        };
        let retrying = DeliveryAttempt {
            monitor_id: "m".into(),
            seq: 3,
            channel: "hook".into(),
            attempts: 2,
            last_error: "answered 503 Service Unavailable".into(),
            at_ms: 260,
            next_attempt_ms: 1_260,
            node: "n1".into(),
        };
        let pending = |k: &Key| (k.1 == 3).then(|| retrying.clone());
        let list = incidents(&ts, &[delivered], pending, 1_000);
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[0].start_ms, list[0].end_ms, list[0].duration_ms),
            (900, None, 100)
        );
        assert_eq!(
            (list[1].start_ms, list[1].end_ms, list[1].duration_ms),
            (100, Some(250), 150)
        );
        assert_eq!(list[1].cause, "reason 2");
        let outcomes: Vec<_> = list[1]
            .alerts
            .iter()
            .map(|a| (a.status, a.outcome))
            .collect();
        assert_eq!(
            outcomes,
            [(Status::Down, "delivered"), (Status::Up, "pending")]
        );
        assert_eq!(list[1].alerts[0].attempts, 2);
        // The recovery's notification is being retried: its attempts and error show now.
        let up = &list[1].alerts[1];
        assert_eq!(
            (up.attempts, up.last_error.as_deref(), up.next_attempt_ms),
            (2, Some("answered 503 Service Unavailable"), Some(1_260))
        );
        // A pause (or reset to pending) also ends an incident.
        let list = incidents(
            &[t(1, Status::Down, 5), t(2, Status::Pending, 9)],
            &[],
            |_: &Key| None,
            20,
        );
        assert_eq!(list[0].end_ms, Some(9));
    }
}
