//! What a peer may tell us: the checks every frame and every record in it passes before the
//! inbox ([`super::inbox`]) hands it on. A deterministic core (times are passed in).
//!
//! A peer is whoever has the cluster cookie; the cookie authenticates the session, and the
//! session tells the name its peer authenticated with (ractor_cluster, patched:
//! `vendor/ractor_cluster/RINGWATCH.md`). From there:
//!
//! - **A frame speaks for its session's peer only** ([`check_sender`]): its `from` (name and
//!   incarnation) must be the session's, or it is dropped whole, so no peer can send another
//!   node's heartbeats, departure or results, and membership only ever hears a node from the
//!   node itself. A frame that came by no session, or claims to be from us, is dropped too.
//! - **No time from the future** ([`MAX_CLOCK_SKEW`]): a result, a status change or a rollup
//!   bucket more than the skew ahead of our clock is refused (it would stay the newest until
//!   then: a forged result pinning `last_result` and the catch-up watermarks). Revisions of
//!   definitions are held to the same bound by the replicated table (`state::table`).
//! - **A peer's own records are its own** ([`admit_results`]): live results, second opinions
//!   and shipped rollups must name the sender as the node that probed them, and its results
//!   the sender's zone; relayed ones (catch-up and rollup pages, a full sync's status changes)
//!   may name any node, and any zone that is a plain name (or none, from older builds).
//! - **Numbers stay in range**: a status change numbered past [`MAX_TRANSITION_SEQ`] (which
//!   no monitor reaches) is refused, so the next number never overflows.
//!
//! Everything refused is counted by reason (`ringwatch_peer_frames_dropped_total`,
//! `ringwatch_peer_records_refused_total`) and logged at most once per [`LOG_EVERY_MS`] per
//! reason ([`LogLimiter`]), so a hostile peer cannot flood the log.

use std::collections::HashMap;

use ringwatch_proto::{MemberInfo, ProbeResult, RollupFrame, Transition};

use super::endpoint::session_name;
use crate::clock::{MAX_CLOCK_SKEW, latest_accepted_ms};

/// Highest status-change number a peer may send. A monitor changing status every second
/// for 30,000 years stays below it; `seq + 1` of anything accepted cannot overflow.
pub const MAX_TRANSITION_SEQ: u64 = 1 << 40;
/// A reason of refusal is logged at most once per this many milliseconds (with how many were
/// refused meanwhile).
pub const LOG_EVERY_MS: u64 = 10_000;

/// Why a whole frame was dropped: the `reason` label of `ringwatch_peer_frames_dropped_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameDrop {
    /// The bytes are not a frame of this wire version.
    Undecodable,
    /// It came by no authenticated session.
    Unauthenticated,
    /// Its `from` is not the peer of the session it came by.
    WrongSender,
    /// It claims to come from this node.
    FromSelf,
    /// Its sender names a zone no node may have (not a plain name).
    BadZone,
}

impl FrameDrop {
    pub fn label(self) -> &'static str {
        match self {
            FrameDrop::Undecodable => "undecodable",
            FrameDrop::Unauthenticated => "unauthenticated",
            FrameDrop::WrongSender => "wrong_sender",
            FrameDrop::FromSelf => "from_self",
            FrameDrop::BadZone => "bad_zone",
        }
    }
}

/// Why one record in a frame was refused: the `reason` label of
/// `ringwatch_peer_records_refused_total` (its `kind` is `result`, `transition` or `rollup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordRefusal {
    /// Its time is more than [`MAX_CLOCK_SKEW`] ahead of our clock.
    Future,
    /// The sender sent it as its own, but it names another node.
    WrongOrigin,
    /// A number no node makes ([`MAX_TRANSITION_SEQ`]).
    OutOfRange,
    /// A result of the sender's own whose zone is not the sender's, or a zone that is not a
    /// plain name.
    WrongZone,
}

impl RecordRefusal {
    pub fn label(self) -> &'static str {
        match self {
            RecordRefusal::Future => "future",
            RecordRefusal::WrongOrigin => "wrong_origin",
            RecordRefusal::OutOfRange => "out_of_range",
            RecordRefusal::WrongZone => "wrong_zone",
        }
    }
}

/// Whether a frame from `from` may be taken, having come by the session whose peer
/// authenticated as `session` (`node~incarnation@host`; `None`: by no session), on the node
/// named `me`.
pub fn check_sender(session: Option<&str>, from: &MemberInfo, me: &str) -> Result<(), FrameDrop> {
    let Some(session) = session else {
        return Err(FrameDrop::Unauthenticated);
    };
    if from.name == me {
        return Err(FrameDrop::FromSelf);
    }
    // ractor_cluster names a session's peer `name@host`; ours are `node~incarnation`.
    let peer = session
        .split_once('@')
        .map_or(session, |(peer, _host)| peer);
    if peer != session_name(&from.name, from.incarnation) {
        return Err(FrameDrop::WrongSender);
    }
    if !crate::domain::names::is_plain_name(&from.zone) {
        return Err(FrameDrop::BadZone);
    }
    Ok(())
}

/// Refused records by reason.
pub type Refused = Vec<(RecordRefusal, usize)>;

fn tally(refused: &mut Refused, why: RecordRefusal) {
    match refused.iter_mut().find(|(r, _)| *r == why) {
        Some((_, n)) => *n += 1,
        None => refused.push((why, 1)),
    }
}

/// The sender of results that are its own: its name and zone.
pub type Origin<'a> = (&'a str, &'a str);

/// Why a result may not be taken at wall-clock time `wall_ms`, if it may not. `origin` is the
/// sender when the results are its own (live gossip, a second opinion); `None` for relayed
/// ones (catch-up).
pub fn result_refusal(
    r: &ProbeResult,
    origin: Option<Origin<'_>>,
    wall_ms: u64,
) -> Option<RecordRefusal> {
    if r.at_ms > latest_accepted_ms(wall_ms) {
        return Some(RecordRefusal::Future);
    }
    if origin.is_some_and(|(name, _)| name != r.node) {
        return Some(RecordRefusal::WrongOrigin);
    }
    let plain = r.zone.is_empty() || crate::domain::names::is_plain_name(&r.zone);
    if !plain || origin.is_some_and(|(_, zone)| zone != r.zone) {
        return Some(RecordRefusal::WrongZone);
    }
    None
}

/// Keeps the results that may be taken (see [`result_refusal`]); returns the refused.
pub fn admit_results(
    results: &mut Vec<ProbeResult>,
    origin: Option<Origin<'_>>,
    wall_ms: u64,
) -> Refused {
    let mut refused = Refused::new();
    results.retain(|r| match result_refusal(r, origin, wall_ms) {
        Some(why) => {
            tally(&mut refused, why);
            false
        }
        None => true,
    });
    refused
}

/// Keeps the status changes that may be taken: none from the future (nor with a last result
/// from the future), none numbered past [`MAX_TRANSITION_SEQ`]. Any node may relay any
/// monitor's changes (a full sync does), so the origin is not checked.
pub fn admit_transitions(ts: &mut Vec<Transition>, wall_ms: u64) -> Refused {
    let latest = latest_accepted_ms(wall_ms);
    let mut refused = Refused::new();
    ts.retain(|t| {
        let why = if t.seq > MAX_TRANSITION_SEQ {
            Some(RecordRefusal::OutOfRange)
        } else if t.at_ms > latest || t.last_result.as_ref().is_some_and(|r| r.at_ms > latest) {
            Some(RecordRefusal::Future)
        } else {
            None
        };
        why.inspect(|w| tally(&mut refused, *w)).is_none()
    });
    refused
}

/// Keeps the rollup frames a peer ships as its own (`Rollups`): those that name it as the
/// node that counted them. Their bucket times are checked once decoded
/// (`history::sync::receive`).
pub fn admit_own_rollups(frames: &mut Vec<RollupFrame>, origin: &str) -> Refused {
    let mut refused = Refused::new();
    frames.retain(|f| {
        let own = f.node == origin;
        if !own {
            tally(&mut refused, RecordRefusal::WrongOrigin);
        }
        own
    });
    refused
}

/// Logs each reason of refusal at most once per [`LOG_EVERY_MS`], with the count since the
/// last line. A deterministic core: the caller passes the time and writes the line.
#[derive(Debug, Default)]
pub struct LogLimiter {
    /// Per reason: when it was last logged, and how many went unlogged since.
    reasons: HashMap<&'static str, (u64, u64)>,
}

impl LogLimiter {
    /// Notes `n` refusals for `reason` at `now_ms`; `Some(count)` when a line is due now,
    /// counting these and every one not logged since the last line.
    pub fn note(&mut self, reason: &'static str, n: u64, now_ms: u64) -> Option<u64> {
        let (last, pending) = self.reasons.entry(reason).or_insert((0, 0));
        *pending += n;
        if *last != 0 && now_ms.saturating_sub(*last) < LOG_EVERY_MS {
            return None;
        }
        *last = now_ms.max(1);
        Some(std::mem::take(pending))
    }
}

/// The skew bound in seconds, for messages.
pub fn skew_secs() -> u64 {
    MAX_CLOCK_SKEW.as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringwatch_proto::Status;

    const NOW: u64 = 1_700_000_000_000;

    fn member(name: &str, incarnation: u64) -> MemberInfo {
        MemberInfo {
            name: name.into(),
            incarnation,
            cluster: "127.0.0.1:1".into(),
            http: "127.0.0.1:2".into(),
            zone: "default".into(),
        }
    }

    fn result(node: &str, at_ms: u64) -> ProbeResult {
        ProbeResult {
            monitor_id: "m-1".into(),
            at_ms,
            ok: true,
            status_code: Some(200),
            latency_ms: 1,
            error: None,
            error_kind: None,
            node: node.into(),
            tls_days_left: None,
            zone: String::new(),
        }
    }

    #[test]
    fn a_frame_speaks_only_for_its_sessions_peer() {
        let b = member("b", 7);
        assert_eq!(check_sender(Some("b~7"), &b, "a"), Ok(()));
        assert_eq!(check_sender(Some("b~7@10.0.0.2"), &b, "a"), Ok(()));
        assert_eq!(
            check_sender(Some("b~7x@10.0.0.2"), &b, "a"),
            Err(FrameDrop::WrongSender)
        );
        // Another node's name, or the same name of another process start: dropped.
        assert_eq!(
            check_sender(Some("evil~1"), &b, "a"),
            Err(FrameDrop::WrongSender)
        );
        assert_eq!(
            check_sender(Some("b~8"), &b, "a"),
            Err(FrameDrop::WrongSender)
        );
        assert_eq!(
            check_sender(Some("b"), &b, "a"),
            Err(FrameDrop::WrongSender)
        );
        assert_eq!(check_sender(None, &b, "a"), Err(FrameDrop::Unauthenticated));
        assert_eq!(
            check_sender(Some("a~7"), &member("a", 7), "a"),
            Err(FrameDrop::FromSelf)
        );
        // A zone that could not be a zone's name (it is shown and logged unquoted).
        for zone in ["", "eu west", "\u{1b}[31m", &"z".repeat(65)] {
            let odd = MemberInfo {
                zone: zone.to_owned(),
                ..member("b", 7)
            };
            assert_eq!(
                check_sender(Some("b~7"), &odd, "a"),
                Err(FrameDrop::BadZone)
            );
        }
    }

    #[test]
    fn results_from_the_future_or_of_another_origin_are_refused() {
        let skew = MAX_CLOCK_SKEW.as_millis() as u64;
        let mut rs = vec![
            result("b", NOW),
            result("b", NOW + skew),
            result("b", NOW + skew + 1),
            result("b", u64::MAX),
            result("c", NOW),
        ];
        let refused = admit_results(&mut rs.clone(), None, NOW);
        assert_eq!(refused, [(RecordRefusal::Future, 2)]);
        let refused = admit_results(&mut rs, Some(("b", "")), NOW);
        assert_eq!(
            refused,
            [(RecordRefusal::Future, 2), (RecordRefusal::WrongOrigin, 1)]
        );
        assert_eq!(rs.len(), 2);
        assert!(rs.iter().all(|r| r.node == "b" && r.at_ms <= NOW + skew));
    }

    #[test]
    fn a_peers_own_results_carry_its_zone() {
        let zoned = |zone: &str| ProbeResult {
            zone: zone.into(),
            ..result("b", NOW)
        };
        let mut rs = vec![zoned("eu"), zoned("us"), zoned(""), zoned("no zone!")];
        let refused = admit_results(&mut rs.clone(), None, NOW);
        assert_eq!(
            refused,
            [(RecordRefusal::WrongZone, 1)],
            "relayed: any plain zone"
        );
        let refused = admit_results(&mut rs, Some(("b", "eu")), NOW);
        assert_eq!(refused, [(RecordRefusal::WrongZone, 3)]);
        assert_eq!(rs, [zoned("eu")]);
    }

    #[test]
    fn transitions_from_the_future_or_out_of_range_are_refused() {
        let t = |seq: u64, at_ms: u64, last: Option<u64>| Transition {
            monitor_id: "m-1".into(),
            name: "m".into(),
            url: "http://x/".into(),
            seq,
            from: Status::Up,
            to: Status::Down,
            at_ms,
            reason: "r".into(),
            node: "b".into(),
            confirmed_by: None,
            last_result: last.map(|at| result("b", at)),
            channels: vec![],
            zones_down: Vec::new(),
            zones_reachable: 0,
        };
        let far = NOW + 3_600_000;
        let mut ts = vec![
            t(1, NOW, Some(NOW)),
            t(2, far, None),
            t(3, NOW, Some(far)),
            t(u64::MAX, NOW, None),
            t(MAX_TRANSITION_SEQ, NOW, None),
        ];
        let refused = admit_transitions(&mut ts, NOW);
        assert_eq!(
            refused,
            [(RecordRefusal::Future, 2), (RecordRefusal::OutOfRange, 1)]
        );
        assert_eq!(
            ts.iter().map(|t| t.seq).collect::<Vec<_>>(),
            [1, MAX_TRANSITION_SEQ]
        );
    }

    #[test]
    fn shipped_rollups_must_be_the_senders_own() {
        let f = |node: &str| RollupFrame {
            monitor_id: "m-1".into(),
            node: node.into(),
            resolution: b'm',
            bucket: vec![],
        };
        let mut frames = vec![f("b"), f("c"), f("b")];
        assert_eq!(
            admit_own_rollups(&mut frames, "b"),
            [(RecordRefusal::WrongOrigin, 1)]
        );
        assert_eq!(frames.len(), 2);
    }

    #[test]
    fn a_reason_is_logged_once_per_period_with_the_count_since() {
        let mut log = LogLimiter::default();
        assert_eq!(log.note("future", 1, NOW), Some(1));
        for i in 1..=100 {
            assert_eq!(log.note("future", 2, NOW + i), None);
        }
        // Another reason has its own period.
        assert_eq!(log.note("wrong_sender", 1, NOW + 5), Some(1));
        assert_eq!(log.note("future", 1, NOW + LOG_EVERY_MS), Some(201));
        assert_eq!(log.note("future", 1, NOW + LOG_EVERY_MS + 1), None);
    }
}
