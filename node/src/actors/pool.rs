//! The prober pool: supervises the prober actors of a node and spreads monitors over them.
//!
//! It keeps each prober's assignment, so a prober that panics is restarted with the same
//! monitors (their schedule phase is stable, so probing resumes on the same cadence).

use std::collections::HashSet;
use std::sync::Arc;

use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, SupervisionEvent};
use ringwatch_proto::{Monitor, MonitorId};

use super::prober::{Prober, ProberMessage};
use crate::context::Ctx;
use crate::domain::hash::stable_hash;
use crate::links::PoolMessage;
use crate::state::ById;

pub struct PoolState {
    ctx: Ctx,
    probers: Vec<ActorRef<ProberMessage>>,
    /// Each prober's monitors, found by id without a second copy of it.
    slots: Vec<HashSet<ById<Monitor>>>,
}

pub struct ProberPool;

impl Actor for ProberPool {
    type Msg = PoolMessage;
    type State = PoolState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        let n = ctx.config.probers.max(1);
        let mut probers = Vec::with_capacity(n);
        for _ in 0..n {
            probers.push(spawn_prober(&myself, &ctx).await?);
        }
        Ok(PoolState {
            ctx,
            probers,
            slots: (0..n).map(|_| HashSet::new()).collect(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            PoolMessage::Assign { monitor, fresh } => state.assign(monitor, fresh),
            PoolMessage::Unassign(id) => state.unassign(&id),
            PoolMessage::Sync(monitors) => state.sync(monitors),
            #[cfg(any(test, feature = "fault-injection"))]
            PoolMessage::PanicProber(n) => {
                let _ = state.probers[n % state.probers.len()].cast(ProberMessage::Panic);
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // ractor leaves children running when their supervisor stops: stop them with us.
        myself
            .stop_children_and_wait(None, Some(super::STOP_TIMEOUT))
            .await;
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match evt {
            SupervisionEvent::ActorFailed(cell, err) => {
                tracing::error!(error = %err, "prober failed; restarting it");
                state.restart(&myself, &cell).await?;
            }
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                tracing::warn!(?reason, "prober stopped; restarting it");
                state.restart(&myself, &cell).await?;
            }
            _ => {}
        }
        Ok(())
    }
}

async fn spawn_prober(
    pool: &ActorRef<PoolMessage>,
    ctx: &Ctx,
) -> Result<ActorRef<ProberMessage>, ActorProcessingErr> {
    let (prober, _) = Actor::spawn_linked(None, Prober, ctx.clone(), pool.get_cell()).await?;
    Ok(prober)
}

impl PoolState {
    fn slot(&self, id: &str) -> usize {
        (stable_hash(id.as_bytes()) % self.probers.len() as u64) as usize
    }

    fn assign(&mut self, monitor: Arc<Monitor>, fresh: bool) {
        let i = self.slot(&monitor.id);
        self.slots[i].replace(ById(monitor.clone()));
        let _ = self.probers[i].cast(ProberMessage::Assign { monitor, fresh });
    }

    fn unassign(&mut self, id: &str) {
        let i = self.slot(id);
        if self.slots[i].remove(id) {
            let _ = self.probers[i].cast(ProberMessage::Unassign(id.to_owned()));
        }
    }

    fn sync(&mut self, monitors: Vec<Arc<Monitor>>) {
        let wanted: HashSet<&str> = monitors.iter().map(|m| m.id.as_str()).collect();
        let stale: Vec<MonitorId> = self
            .slots
            .iter()
            .flat_map(|s| s.iter())
            .map(|m| &m.0.id)
            .filter(|id| !wanted.contains(id.as_str()))
            .cloned()
            .collect();
        for id in stale {
            self.unassign(&id);
        }
        for m in monitors {
            self.assign(m, false);
        }
    }

    async fn restart(
        &mut self,
        pool: &ActorRef<PoolMessage>,
        dead: &ActorCell,
    ) -> Result<(), ActorProcessingErr> {
        let Some(i) = self
            .probers
            .iter()
            .position(|p| p.get_id() == dead.get_id())
        else {
            return Ok(());
        };
        self.ctx.metrics.prober_restarts.inc();
        self.probers[i] = spawn_prober(pool, &self.ctx).await?;
        for monitor in &self.slots[i] {
            let _ = self.probers[i].cast(ProberMessage::Assign {
                monitor: monitor.0.clone(),
                fresh: false,
            });
        }
        Ok(())
    }
}
