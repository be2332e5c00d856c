//! A prober: checks the monitors assigned to it on their schedule.
//!
//! The actor only keeps the schedule and starts checks; each check runs in its own task
//! (network I/O never blocks the mailbox) and hands its result straight to the recorder.
//! A monitor whose previous check is still running skips its slot instead of stacking checks,
//! so the checks in flight never exceed the monitors assigned.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use ringwatch_proto::{Monitor, MonitorId};

use crate::clock::now_ms;
use crate::context::Ctx;
use crate::domain::schedule::{Due, Key, Schedule};
use crate::probe;

/// How often a prober looks for due checks; bounds schedule lag from the timer alone.
pub const TICK: Duration = Duration::from_millis(10);

pub enum ProberMessage {
    /// Start (or keep) probing this monitor; `fresh` probes it at once.
    Assign { monitor: Arc<Monitor>, fresh: bool },
    /// Stop probing this monitor.
    Unassign(MonitorId),
    /// Start the checks that are due.
    Tick,
    /// Test-only fault: make this prober panic.
    #[cfg(any(test, feature = "fault-injection"))]
    Panic,
}

impl ractor::Message for ProberMessage {}

struct Assigned {
    monitor: Arc<Monitor>,
    in_flight: Arc<AtomicBool>,
}

pub struct ProberState {
    ctx: Ctx,
    schedule: Schedule,
    assigned: HashMap<Key, Assigned>,
    due: Vec<Due>,
}

pub struct Prober;

impl Actor for Prober {
    type Msg = ProberMessage;
    type State = ProberState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        myself.send_after(TICK, || ProberMessage::Tick);
        Ok(ProberState {
            ctx,
            schedule: Schedule::new(),
            assigned: HashMap::new(),
            due: Vec::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ProberMessage::Assign { monitor, fresh } => state.assign(monitor, fresh),
            ProberMessage::Unassign(id) => state.unassign(&id),
            // Re-armed after the work, so a slow tick delays the next instead of queueing.
            ProberMessage::Tick => {
                state.start_due_checks();
                myself.send_after(TICK, || ProberMessage::Tick);
            }
            #[cfg(any(test, feature = "fault-injection"))]
            ProberMessage::Panic => panic!("injected prober fault"),
        }
        Ok(())
    }
}

impl ProberState {
    fn assign(&mut self, monitor: Arc<Monitor>, fresh: bool) {
        let key: Key = Arc::from(monitor.id.as_str());
        let interval_ms = monitor.interval_secs * 1000;
        let retime = fresh
            || self
                .assigned
                .get(&key)
                .is_none_or(|a| a.monitor.interval_secs != monitor.interval_secs);
        if retime {
            self.schedule
                .upsert(key.clone(), interval_ms, now_ms(), fresh);
        }
        let in_flight = self
            .assigned
            .remove(&key)
            .map_or_else(Default::default, |a| a.in_flight);
        self.assigned.insert(key, Assigned { monitor, in_flight });
    }

    fn unassign(&mut self, id: &str) {
        self.schedule.remove(id);
        self.assigned.remove(id);
    }

    fn start_due_checks(&mut self) {
        let now = now_ms();
        self.schedule.tick(now, &mut self.due);
        for due in self.due.drain(..) {
            let Some(a) = self.assigned.get(&due.key) else {
                continue;
            };
            if a.in_flight.swap(true, Ordering::AcqRel) {
                self.ctx.metrics.checks_skipped.inc();
                continue;
            }
            let (ctx, monitor, in_flight) =
                (self.ctx.clone(), a.monitor.clone(), a.in_flight.clone());
            let planned_ms = due.planned_ms;
            tokio::spawn(async move {
                // Waiting for a permit counts as lag, not as part of the check's timeout.
                let permit = ctx.check_permits.clone().acquire_owned().await;
                let lag_ms = now_ms().saturating_sub(planned_ms);
                ctx.metrics.schedule_lag.observe(lag_ms as f64 / 1000.0);
                let result = probe::check(&ctx.clients, &monitor, &ctx.name).await;
                drop(permit);
                in_flight.store(false, Ordering::Release);
                ctx.record(result);
            });
        }
    }
}
