//! The alerter actor: turns due status changes into replicated transitions (after a second
//! opinion for downs) and drives the outbox. See the module doc of [`crate::alert`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use ringwatch_proto::{
    Delivery, DeliveryAttempt, Monitor, MonitorId, PeerMsg, ProbeResult, Status, Transition,
};

use super::notifiers;
use crate::clock::now_ms;
use crate::context::{Ctx, Event};
use crate::domain::outbox::{AfterFailure, Key, Outbox};
use crate::domain::ownership::Ownership;
use crate::domain::spec::repeat_every_text;
use crate::domain::{reminders, secret, status};
use crate::links::AlerterMessage;
use crate::live::{Due, ZoneSight};

/// How often confirmation deadlines and the outbox are looked at.
pub const TICK_EVERY: Duration = Duration::from_millis(250);
/// Extra time a peer gets beyond the monitor's timeout to answer a second-opinion request;
/// after it the owner decides alone.
pub const CONFIRM_GRACE: Duration = Duration::from_secs(3);
/// Notifications loaded from the store at start wait this long, so deliveries recorded by
/// peers while this node was away arrive first (they come with the first full sync).
pub const STARTUP_GRACE: Duration = Duration::from_secs(3);
/// Notifications learnt from a peer wait this long before this node may send them, so a
/// delivery record that follows its transition in the same sync arrives first.
pub const REMOTE_GRACE: Duration = Duration::from_secs(1);
/// Notification sends in flight at once.
pub const MAX_SENDS: usize = 64;

/// A down waiting for a peer's second opinion.
struct Confirming {
    token: u64,
    peer: String,
    deadline_ms: u64,
    due: Due,
}

/// A monitor that is down, for its reminders: when it went down and when it was last
/// notified of (the down or the last reminder).
#[derive(Debug, Clone, Copy)]
struct DownSince {
    since_ms: u64,
    last_ms: u64,
}

pub struct AlerterState {
    ctx: Ctx,
    confirming: HashMap<MonitorId, Confirming>,
    /// Every monitor down now, whether it has reminders or not (a PATCH may add them).
    down: HashMap<MonitorId, DownSince>,
    next_token: u64,
    outbox: Outbox,
    client: reqwest::Client,
    sends: Arc<tokio::sync::Semaphore>,
}

pub struct Alerter;

impl Actor for Alerter {
    type Msg = AlerterMessage;
    type State = AlerterState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        let client = reqwest::Client::builder()
            .user_agent(crate::probe::USER_AGENT)
            .timeout(super::notify::SEND_TIMEOUT)
            .no_proxy()
            .build()?;
        let outbox = tokio::task::block_in_place(|| load_outbox(&ctx))?;
        let down = tokio::task::block_in_place(|| load_down(&ctx));
        myself.send_interval(TICK_EVERY, || AlerterMessage::Tick);
        Ok(AlerterState {
            ctx,
            confirming: HashMap::new(),
            down,
            next_token: rand::random(),
            outbox,
            client,
            sends: Arc::new(tokio::sync::Semaphore::new(MAX_SENDS)),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            AlerterMessage::Due(dues) => state.on_due(&myself, dues),
            AlerterMessage::Timeline { monitor_id, to } => state.on_timeline(&monitor_id, to),
            AlerterMessage::Confirmed { token, result } => {
                state.on_confirmed(&myself, token, result)
            }
            AlerterMessage::Transitions(ts) => state.on_remote(ts),
            AlerterMessage::Deliveries(ds) => state.on_deliveries(ds),
            AlerterMessage::Sent { key, outcome } => state.on_sent(key, outcome),
            AlerterMessage::Tick => state.on_tick(&myself),
            #[cfg(any(test, feature = "fault-injection"))]
            AlerterMessage::Panic => panic!("injected alerter fault"),
        }
        Ok(())
    }
}

/// The monitors down now, each with the time of its last transition (the down, or the last
/// reminder), from the store.
fn load_down(ctx: &Ctx) -> HashMap<MonitorId, DownSince> {
    ctx.live
        .down()
        .into_iter()
        .map(|(id, state)| {
            let last_ms = match ctx.store.transition(&id, state.seq) {
                Ok(Some(t)) => t.at_ms,
                _ => state.since_ms,
            };
            let since_ms = state.since_ms;
            (id, DownSince { since_ms, last_ms })
        })
        .collect()
}

/// Rebuilds the outbox: transitions that call for notifications not yet delivered.
fn load_outbox(ctx: &Ctx) -> Result<Outbox, crate::store::StoreError> {
    let mut outbox = Outbox::default();
    let now = now_ms();
    let horizon = now.saturating_sub(crate::domain::outbox::GIVE_UP_AFTER.as_millis() as u64);
    let not_before = now + STARTUP_GRACE.as_millis() as u64;
    for t in ctx.store.all_transitions()? {
        if !t.channels.is_empty() && t.at_ms >= horizon {
            outbox.add(&t, not_before);
        }
    }
    for d in ctx.store.deliveries()? {
        outbox.done(&(d.monitor_id, d.seq, d.channel));
    }
    Ok(outbox)
}

impl AlerterState {
    /// Decides due changes this node owns. A monitor in maintenance gets no decision: its
    /// due is dropped, and once the window ends its next result calls for the change again
    /// and goes through the usual confirmation, so nothing decided in a window is notified.
    fn on_due(&mut self, myself: &ActorRef<AlerterMessage>, dues: Vec<Due>) {
        let mut decided = Vec::new();
        let ownership = self.ctx.ownership();
        let windows = self.ctx.maintenance_windows();
        let now = now_ms();
        for due in dues {
            let id = &due.monitor.id;
            if self.confirming.contains_key(id) || !ownership.is_mine(id) {
                continue;
            }
            if windows.covers(id, now) {
                tracing::debug!(monitor = %id, to = due.to.as_str(), "in maintenance: no decision");
                continue;
            }
            match self.second_opinion_peer(&ownership, &due) {
                Some(peer) => self.ask(peer, due),
                None => decided.extend(self.decide(due, None, None)),
            }
        }
        self.commit(decided);
        self.dispatch(myself);
    }

    /// Records a pause, a resume or a new URL as a transition that notifies nobody.
    fn on_timeline(&mut self, id: &str, to: Status) {
        let Some(live) = self.ctx.live.get(id) else {
            return;
        };
        if !self.ctx.ownership().is_mine(id) {
            return;
        }
        // A pending change for the old definition no longer holds.
        self.confirming.remove(id);
        let t = super::incidents::timeline_change(&live, to, now_ms(), &self.ctx.name);
        self.commit(vec![t]);
    }

    /// The peer to ask before a down, if the node asks one at all.
    fn second_opinion_peer(&self, ownership: &Ownership, due: &Due) -> Option<String> {
        if due.to != Status::Down || !self.ctx.config.second_opinion || due.zones.is_some() {
            return None; // a zoned monitor's zones are its opinions
        }
        ownership.second_opinion(&due.monitor.id).map(str::to_owned)
    }

    fn ask(&mut self, peer: String, due: Due) {
        self.next_token = self.next_token.wrapping_add(1);
        let token = self.next_token;
        let wait = due.monitor.timeout_ms + CONFIRM_GRACE.as_millis() as u64;
        let monitor_id = due.monitor.id.clone();
        tracing::info!(monitor = %monitor_id, peer = %peer, "asking for a second opinion before down");
        self.ctx.send_to(
            &peer,
            PeerMsg::Confirm {
                monitor_id: monitor_id.clone(),
                token,
            },
        );
        self.confirming.insert(
            monitor_id,
            Confirming {
                token,
                peer,
                deadline_ms: now_ms() + wait,
                due,
            },
        );
    }

    fn on_confirmed(&mut self, myself: &ActorRef<AlerterMessage>, token: u64, result: ProbeResult) {
        let id = result.monitor_id.clone();
        if self.confirming.get(&id).is_none_or(|c| c.token != token) {
            tracing::debug!(token, monitor = %id, "a second opinion arrived late or is not ours");
            return;
        }
        let Some(c) = self.confirming.remove(&id) else {
            return;
        };
        let verdict = if result.ok { "up" } else { "down" };
        let label = crate::metrics::VerdictLabel { verdict };
        self.ctx.metrics.second_opinions.get_or_create(&label).inc();
        if result.ok {
            tracing::info!(monitor = %id, peer = %c.peer, "second opinion: up; not going down");
            return;
        }
        let their = result.error.clone().unwrap_or_else(|| "failed".into());
        let reason = format!(
            "{}; confirmed by {}: {their}",
            reason_of(&c.due.result),
            c.peer
        );
        let decided = self.decide(c.due, Some(c.peer), Some(reason));
        self.commit(decided.into_iter().collect());
        self.dispatch(myself);
    }

    /// The transition for a due change, if the counts still call for it.
    fn decide(
        &self,
        due: Due,
        confirmed_by: Option<String>,
        reason: Option<String>,
    ) -> Option<Transition> {
        let live = self.ctx.live.get(&due.monitor.id)?;
        let ownership = self.ctx.ownership();
        // A zoned monitor is due by what its zones say now; another by its counters.
        let zones = match live.monitor.zones {
            Some(_) => ZoneSight::of(&ownership)
                .judge(&live)
                .filter(|j| j.status == Some(due.to) && live.state.status != due.to),
            None => None,
        };
        let still_due = zones.is_some()
            || (live.monitor.zones.is_none()
                && status::due(&live.state, &live.monitor) == Some(due.to));
        if !still_due || !ownership.is_mine(&live.monitor.id) {
            tracing::debug!(monitor = %live.monitor.id, state = ?live.state, "no longer due");
            return None; // a good probe or a new owner came in between
        }
        if self.ctx.in_maintenance(&live.monitor.id, now_ms()) {
            // A window began while a second opinion was asked for.
            tracing::debug!(monitor = %live.monitor.id, "in maintenance: no decision");
            return None;
        }
        let from = live.state.status;
        let reason = reason.unwrap_or_else(|| match &zones {
            Some(j) => zoned_reason(j, due.to, &due.result),
            None => reason_of(&due.result),
        });
        let (zones_down, zones_reachable) =
            zones.map_or((Vec::new(), 0), |j| (j.down, j.reachable));
        // Status changes are shown and sent: they carry the monitor as shown, secrets redacted.
        let (name, url) = secret::shown_name_and_url(&live.monitor);
        Some(Transition {
            monitor_id: live.monitor.id.clone(),
            name,
            url,
            seq: live.state.seq + 1,
            from,
            to: due.to,
            at_ms: now_ms(),
            reason,
            node: self.ctx.name.clone(),
            confirmed_by,
            last_result: Some(due.result),
            channels: self.channels(&live.monitor, from, due.to),
            zones_down,
            zones_reachable,
        })
    }

    /// Stores decided transitions, sends them to every peer, then applies them and queues
    /// their notifications: peers hear of a change before any notification of it goes out.
    fn commit(&mut self, decided: Vec<Transition>) {
        if decided.is_empty() {
            return;
        }
        let fresh = match self.ctx.store.put_transitions(decided) {
            Ok(fresh) => fresh, // a number already taken means a peer decided it
            Err(e) => {
                tracing::error!(error = %e, "could not store status changes; not deciding them");
                return;
            }
        };
        if fresh.is_empty() {
            return;
        }
        // Durable before anyone hears of it: a change notified but lost in a crash would be
        // decided, and notified, again.
        self.flush();
        self.ctx.broadcast(|| PeerMsg::Transitions(fresh.clone()));
        self.apply(&fresh);
        let now = now_ms();
        for t in &fresh {
            self.outbox.add(t, now);
        }
    }

    fn channels(&self, m: &Monitor, from: Status, to: Status) -> Vec<String> {
        if !status::notifies(from, to) {
            return Vec::new();
        }
        notifiers::live(&self.ctx)
            .into_iter()
            .filter(|n| m.alerts(&n.id))
            .map(|n| n.id)
            .collect()
    }

    /// Applies stored transitions to the live view and publishes them.
    fn apply(&mut self, ts: &[Transition]) {
        let ctx = &self.ctx;
        let mut states = Vec::new();
        for t in ts {
            let Some((state, before)) = ctx.live.commit(&t.monitor_id, t.to, t.seq, t.at_ms) else {
                continue;
            };
            if state.status == Status::Down {
                let since_ms = state.since_ms;
                let d = DownSince {
                    since_ms,
                    last_ms: t.at_ms,
                };
                self.down.insert(t.monitor_id.clone(), d);
            } else {
                self.down.remove(&t.monitor_id);
            }
            states.push((t.monitor_id.clone(), state));
            ctx.refresh_figures(&t.monitor_id);
            tracing::info!(monitor = %t.monitor_id, seq = t.seq, from = before.as_str(), to = t.to.as_str(), by = %t.node, reason = %t.reason, "status changed");
            ctx.publish(|| Event::Status {
                monitor_id: t.monitor_id.clone(),
                status: t.to,
                previous_status: before,
                since_ms: t.at_ms,
            });
        }
        if let Err(e) = ctx.store.put_states(&states) {
            ctx.metrics.store_errors.inc();
            tracing::error!(error = %e, "could not store monitor states");
        }
    }

    fn on_remote(&mut self, ts: Vec<Transition>) {
        let fresh = match self.ctx.store.put_transitions(ts) {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "could not store status changes from a peer");
                return;
            }
        };
        self.apply(&fresh);
        let not_before = now_ms() + REMOTE_GRACE.as_millis() as u64;
        for t in fresh {
            if t.to == Status::Down {
                self.confirming.remove(&t.monitor_id);
            }
            self.outbox.add(&t, not_before);
            for channel in &t.channels {
                let key = (t.monitor_id.clone(), t.seq, channel.clone());
                if self
                    .ctx
                    .store
                    .delivered(&key.0, key.1, &key.2)
                    .unwrap_or(false)
                {
                    self.outbox.done(&key);
                }
            }
        }
    }

    fn on_deliveries(&mut self, ds: Vec<Delivery>) {
        match self.ctx.store.put_deliveries(ds) {
            Ok(fresh) => {
                for d in fresh {
                    let key = (d.monitor_id, d.seq, d.channel);
                    self.ctx.attempts.clear(&key);
                    self.outbox.done(&key);
                }
            }
            Err(e) => tracing::error!(error = %e, "could not store deliveries from a peer"),
        }
    }

    fn on_tick(&mut self, myself: &ActorRef<AlerterMessage>) {
        let now = now_ms();
        let expired: Vec<MonitorId> = self
            .confirming
            .iter()
            .filter(|(_, c)| c.deadline_ms <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            let Some(c) = self.confirming.remove(&id) else {
                continue;
            };
            tracing::warn!(monitor = %id, peer = %c.peer, "no second opinion in time; deciding alone");
            let reason = format!(
                "{} (no second opinion: {} did not answer)",
                reason_of(&c.due.result),
                c.peer
            );
            let decided = self.decide(c.due, None, Some(reason));
            self.commit(decided.into_iter().collect());
        }
        let reminders = self.reminders(now);
        self.commit(reminders);
        self.dispatch(myself);
    }

    /// The reminders due now of the down monitors this node decides for
    /// ([`crate::domain::reminders`]).
    fn reminders(&self, now: u64) -> Vec<Transition> {
        let mut made = Vec::new();
        let mut ownership = None;
        let mut windows = None;
        for (id, d) in &self.down {
            if self.confirming.contains_key(id) {
                continue;
            }
            let Some(live) = self.ctx.live.get(id) else {
                continue;
            };
            let Some(period_ms) = live.monitor.repeat_every_secs.map(|s| s * 1000) else {
                continue;
            };
            let Some(at_ms) = reminders::due(d.last_ms, period_ms, now) else {
                continue;
            };
            // No reminder during maintenance: the window's own point is that nobody is paged.
            let windows = windows.get_or_insert_with(|| self.ctx.maintenance_windows());
            if windows.covers(id, now) {
                continue;
            }
            let ownership = ownership.get_or_insert_with(|| self.ctx.ownership());
            // Like a send, a reminder waits until this node has heard the cluster.
            if live.state.status != Status::Down
                || !live.monitor.is_probed()
                || !ownership.settled()
                || !ownership.is_mine(id)
            {
                continue;
            }
            let n = reminders::number(d.since_ms, at_ms, period_ms);
            let mut reason = format!(
                "still down since {} ({}), reminder {n} (every {})",
                humantime::format_rfc3339_seconds(ms_time(d.since_ms)),
                repeat_every_text(at_ms.saturating_sub(d.since_ms) / 1000),
                repeat_every_text(period_ms / 1000)
            );
            if let Some(r) = &live.last {
                reason.push_str(&format!("; last check: {}", reason_of(r)));
            }
            let (zones_down, zones_reachable) = ZoneSight::of(ownership)
                .judge(&live)
                .map_or((Vec::new(), 0), |j| (j.down, j.reachable));
            let (name, url) = secret::shown_name_and_url(&live.monitor);
            made.push(Transition {
                monitor_id: id.clone(),
                name,
                url,
                seq: live.state.seq + 1,
                from: Status::Down,
                to: Status::Down,
                at_ms,
                reason,
                node: self.ctx.name.clone(),
                confirmed_by: None,
                last_result: live.last.clone(),
                channels: self.channels(&live.monitor, Status::Down, Status::Down),
                zones_down,
                zones_reachable,
            });
        }
        made
    }

    /// Starts a send task for every notification due now that this node should send.
    fn dispatch(&mut self, myself: &ActorRef<AlerterMessage>) {
        let ownership = self.ctx.ownership();
        if self.outbox.is_empty() || !ownership.settled() {
            return;
        }
        let keys = self.outbox.take_due(now_ms(), |id| ownership.is_mine(id));
        for key in keys {
            let transition = self.ctx.store.transition(&key.0, key.1).ok().flatten();
            let notifier = notifiers::get(&self.ctx, &key.2);
            let (Some(t), Some(n)) = (transition, notifier) else {
                tracing::warn!(monitor = %key.0, channel = %key.2, "dropping a notification: its notifier or status change is gone");
                self.outbox.done(&key);
                continue;
            };
            let client = self.client.clone();
            let sends = self.sends.clone();
            let me = myself.clone();
            tokio::spawn(async move {
                let _permit = sends.acquire_owned().await;
                let outcome = super::notify::send(&client, &n, &t).await;
                let _ = me.cast(AlerterMessage::Sent { key, outcome });
            });
        }
    }

    fn on_sent(&mut self, key: Key, outcome: Result<(), String>) {
        let now = now_ms();
        let delivery = match outcome {
            Ok(()) => {
                let Some(attempts) = self.outbox.succeeded(&key) else {
                    return;
                };
                tracing::info!(monitor = %key.0, seq = key.1, channel = %key.2, attempts, "notification delivered");
                self.count("delivered");
                (attempts, None)
            }
            Err(error) => match self.outbox.failed(&key, now, error.clone()) {
                None => return,
                Some(AfterFailure::RetryAt(at)) => {
                    tracing::warn!(monitor = %key.0, seq = key.1, channel = %key.2, error = %error, retry_in_ms = at - now, "notification failed; will retry");
                    self.count("retry");
                    self.share_attempt(key, error, now, at);
                    return;
                }
                Some(AfterFailure::GiveUp { attempts }) => {
                    tracing::error!(monitor = %key.0, seq = key.1, channel = %key.2, error = %error, attempts, "notification given up");
                    self.count("given_up");
                    (attempts, Some(error))
                }
            },
        };
        let d = Delivery {
            monitor_id: key.0,
            seq: key.1,
            channel: key.2,
            at_ms: now,
            node: self.ctx.name.clone(),
            attempts: delivery.0,
            failed: delivery.1,
        };
        if let Err(e) = self.ctx.store.put_deliveries(vec![d.clone()]) {
            tracing::error!(error = %e, "could not store a delivery");
        }
        self.ctx
            .attempts
            .clear(&(d.monitor_id.clone(), d.seq, d.channel.clone()));
        self.ctx.broadcast(|| PeerMsg::Deliveries(vec![d]));
        self.flush();
    }

    /// Notes a failed attempt of a notification that will be retried, here and on every peer,
    /// so its incident shows it now rather than once it is given up.
    fn share_attempt(&self, key: Key, error: String, now: u64, next_attempt_ms: u64) {
        let attempt = DeliveryAttempt {
            attempts: self.outbox.attempts(&key),
            monitor_id: key.0,
            seq: key.1,
            channel: key.2,
            last_error: error,
            at_ms: now,
            next_attempt_ms,
            node: self.ctx.name.clone(),
        };
        self.ctx.attempts.note(attempt.clone());
        self.ctx.broadcast(|| PeerMsg::Attempts(vec![attempt]));
    }

    /// Counts a send outcome in `notifications_total`.
    fn count(&self, outcome: &'static str) {
        let label = crate::metrics::OutcomeLabel { outcome };
        self.ctx.metrics.notifications.get_or_create(&label).inc();
    }

    /// Makes alerting records durable now rather than at the store's next timed flush (they
    /// are few: one per status change and channel).
    fn flush(&self) {
        if let Err(e) = tokio::task::block_in_place(|| self.ctx.store.flush()) {
            self.ctx.metrics.store_errors.inc();
            tracing::error!(error = %e, "could not flush alerting records");
        }
    }
}

/// Why a zoned monitor changed, for people: which zones see it down, out of how many.
fn zoned_reason(j: &crate::domain::zones::Judgement, to: Status, r: &ProbeResult) -> String {
    let zones = if j.down.is_empty() {
        "no zone".to_owned()
    } else {
        format!("zones {}", j.down.join(", "))
    };
    let count = format!(
        "{} of {} reachable zones down, quorum {}",
        j.down.len(),
        j.reachable,
        j.quorum
    );
    if to == Status::Down {
        format!("down in {zones} ({count}); last failure: {}", reason_of(r))
    } else {
        format!("up: {count}")
    }
}

/// The failing probe's error, for people.
/// A unix-ms time as a `SystemTime`, for printing.
fn ms_time(ms: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_millis(ms)
}

fn reason_of(r: &ProbeResult) -> String {
    match (&r.error, r.ok) {
        (Some(e), _) => format!("{}: {e}", r.node),
        (None, true) => format!("{}: check passed", r.node),
        (None, false) => format!("{}: check failed", r.node),
    }
}
