//! The coordinator: decides which monitors this node probes and hands them to the prober pool.
//!
//! This node probes the active monitors whose rendezvous owner among the alive members is this
//! node (see [`crate::cluster`]: every node computes the same assignment from its own view).
//! It owns no durable state: on (re)start, and on every membership change, it reads the live
//! view and sends the pool the complete set, so a coordinator crash costs no probes (the pool
//! keeps probing meanwhile) and a restart converges at once.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use ringwatch_proto::Monitor;

use crate::context::Ctx;
use crate::links::CoordinatorMessage;
use crate::links::PoolMessage;

pub struct CoordinatorState {
    ctx: Ctx,
}

pub struct Coordinator;

impl Actor for Coordinator {
    type Msg = CoordinatorMessage;
    type State = CoordinatorState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        let state = CoordinatorState { ctx };
        state.resync();
        Ok(state)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            CoordinatorMessage::Upsert { monitor, fresh } => state.upsert(monitor, fresh),
            CoordinatorMessage::Remove(id) => state.to_pool(PoolMessage::Unassign(id)),
            CoordinatorMessage::Resync => state.resync(),
            #[cfg(any(test, feature = "fault-injection"))]
            CoordinatorMessage::Panic => panic!("injected coordinator fault"),
        }
        Ok(())
    }
}

impl CoordinatorState {
    fn to_pool(&self, msg: PoolMessage) {
        self.ctx.links.pool.cast(msg);
    }

    fn upsert(&self, monitor: Arc<Monitor>, fresh: bool) {
        if self.ctx.ownership().probes(&monitor) {
            self.to_pool(PoolMessage::Assign { monitor, fresh });
        } else {
            self.to_pool(PoolMessage::Unassign(monitor.id.clone()));
        }
    }

    fn resync(&self) {
        let ownership = self.ctx.ownership();
        let owned: Vec<_> = self
            .ctx
            .live
            .probed()
            .into_iter()
            .filter(|m| ownership.probes(m))
            .collect();
        let members = ownership.alive().len();
        tracing::debug!(owned = owned.len(), members, "assignment");
        self.to_pool(PoolMessage::Sync(owned));
    }
}
