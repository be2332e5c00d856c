//! The recorder: the store's writer. Buffers probe results and writes them in batches, then
//! counts them in the live view, hands due status changes to the alerter (which decides
//! them) and publishes events.
//!
//! Probers leave results in the context's bounded result sink; the recorder drains it every
//! [`FLUSH_EVERY`], so sled sees one `apply_batch` per flush and no result costs a message.
//! A crash loses at most the unflushed buffer; a SIGKILL at most that plus sled's own flush
//! interval (about a second together).
//!
//! It also writes history: the rollups of this node's own results (`history::writer`), the
//! rollups peers ship, and the background prune and list-figure refresh.

use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use ringwatch_proto::{ProbeResult, Status};

use crate::clock::now_ms;
use crate::context::{Ctx, Event};
use crate::history;
use crate::links::RecorderMessage;
use crate::metrics::OutcomeLabel;

/// Longest a result waits in the buffer before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Results that trigger a write before the timer does.
pub const FLUSH_BATCH: usize = 2_000;

/// How often the list figures (uptime 24 h / 30 d, p95 24 h) are recomputed.
pub const FIGURES_EVERY: Duration = Duration::from_secs(60);

pub struct RecorderState {
    ctx: Ctx,
    buffer: Vec<ProbeResult>,
    remote: Vec<ProbeResult>,
    history: history::writer::Writer,
    /// A figures refresh is running (one at a time).
    refreshing: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

pub struct Recorder;

impl Actor for Recorder {
    type Msg = RecorderMessage;
    type State = RecorderState;
    type Arguments = Ctx;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: Ctx,
    ) -> Result<Self::State, ActorProcessingErr> {
        myself.send_interval(FLUSH_EVERY, || RecorderMessage::Flush);
        myself.send_interval(ctx.config.prune_every, || RecorderMessage::Prune);
        myself.send_interval(FIGURES_EVERY, || RecorderMessage::Figures);
        // The first figures soon after start, not a minute later.
        myself.send_after(Duration::from_secs(2), || RecorderMessage::Figures);
        Ok(RecorderState {
            ctx,
            buffer: Vec::with_capacity(FLUSH_BATCH),
            remote: Vec::new(),
            history: history::writer::Writer::default(),
            refreshing: Default::default(),
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RecorderMessage::RecordRemote { results, live } => state.push_remote(results, live),
            RecorderMessage::Flush => {
                state.flush();
                state.history.tick(&state.ctx, now_ms());
            }
            RecorderMessage::Prune => state.prune(),
            RecorderMessage::Drain(reply) => {
                state.flush();
                let _ = reply.send(());
            }
            RecorderMessage::Rollups(frames) => {
                history::sync::receive(&state.ctx, frames);
            }
            RecorderMessage::FlushHistory(reply) => {
                state.flush();
                state.history.derive(&state.ctx);
                let _ = reply.send(());
            }
            RecorderMessage::Figures => state.refresh_figures(),
            RecorderMessage::FiguresOf(id) => {
                let ctx = state.ctx.clone();
                tokio::task::spawn_blocking(move || {
                    history::query::refresh_figures_of(&ctx, &id, now_ms());
                });
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        state.flush();
        state.history.flush(&state.ctx);
        Ok(())
    }
}

impl RecorderState {
    fn count(&self, r: &ProbeResult) {
        let m = &self.ctx.metrics;
        let outcome = r.error_kind.map_or("ok", |k| k.as_str());
        m.checks.get_or_create(&OutcomeLabel { outcome }).inc();
        m.check_latency.observe(r.latency_ms as f64 / 1000.0);
    }

    /// `live` results were just gossiped (their lag is measured); others come from catch-up.
    fn push_remote(&mut self, results: Vec<ProbeResult>, live: bool) {
        if live {
            let now = now_ms();
            for r in &results {
                let ended = r.at_ms + r.latency_ms;
                let lag = now.saturating_sub(ended) as f64 / 1000.0;
                self.ctx.metrics.replication_lag.observe(lag);
            }
        }
        self.remote.extend(results);
        if self.remote.len() >= FLUSH_BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for r in self.ctx.take_results() {
            self.count(&r);
            self.buffer.push(r);
        }
        if !self.buffer.is_empty() {
            let local = std::mem::replace(&mut self.buffer, Vec::with_capacity(FLUSH_BATCH));
            let stored = self.write(local);
            for r in &stored {
                self.history.add(r);
            }
            if !stored.is_empty() {
                self.ctx.broadcast_results(stored);
            }
        }
        if !self.remote.is_empty() {
            let remote = std::mem::take(&mut self.remote);
            self.write(remote);
        }
    }

    /// Stores a batch, applies it to the live view and publishes events. Returns the results
    /// that belonged to known monitors.
    fn write(&mut self, mut batch: Vec<ProbeResult>) -> Vec<ProbeResult> {
        let ctx = &self.ctx;
        let applied = ctx
            .live
            .apply_results(&mut batch, &ctx.name, &ctx.zone_sight());
        let states = applied.states;
        if let Err(e) = ctx.store.append_results(&batch) {
            ctx.metrics.store_errors.inc();
            ctx.metrics.results_dropped.inc_by(batch.len() as u64);
            tracing::error!(error = %e, results = batch.len(), "could not store results");
        }
        if ctx.config.metrics_per_monitor {
            ctx.metrics.tally.record(&batch);
        }
        self.advance_watermarks(&batch);
        ctx.learn_zones(batch.iter().map(|r| (r.node.as_str(), r.zone.as_str())));
        if let Err(e) = ctx.store.put_states(&states) {
            ctx.metrics.store_errors.inc();
            tracing::error!(error = %e, "could not store monitor states");
        }
        for (monitor_id, since_ms) in applied.ups {
            ctx.publish(|| Event::Status {
                monitor_id,
                status: Status::Up,
                previous_status: Status::Pending,
                since_ms,
            });
        }
        if !applied.dues.is_empty() {
            ctx.alert(crate::links::AlerterMessage::Due(applied.dues));
        }
        if ctx.events.receiver_count() > 0 {
            for r in &batch {
                ctx.publish(|| Event::Result(r.clone().into()));
            }
        }
        batch
    }

    /// Raises the per-origin watermarks to the newest stored results and persists the ones
    /// that moved.
    fn advance_watermarks(&self, batch: &[ProbeResult]) {
        let mut moved: Vec<(String, u64)> = Vec::new();
        {
            let mut wm = self
                .ctx
                .watermarks
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for r in batch {
                let t = wm.entry(r.node.clone()).or_default();
                if r.at_ms > *t {
                    *t = r.at_ms;
                    match moved.iter_mut().find(|(n, _)| *n == r.node) {
                        Some(m) => m.1 = r.at_ms,
                        None => moved.push((r.node.clone(), r.at_ms)),
                    }
                }
            }
        }
        if let Err(e) = self.ctx.store.put_watermarks(&moved) {
            self.ctx.metrics.store_errors.inc();
            tracing::error!(error = %e, "could not store watermarks");
        }
    }

    /// Recomputes the list figures off the actor's thread, one pass at a time.
    fn refresh_figures(&self) {
        use std::sync::atomic::Ordering;
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let (ctx, running) = (self.ctx.clone(), self.refreshing.clone());
        tokio::task::spawn_blocking(move || {
            history::query::refresh_figures(&ctx, now_ms());
            running.store(false, Ordering::Release);
        });
    }

    /// Deletes results and history past retention, off the actor's thread.
    fn prune(&self) {
        let ctx = self.ctx.clone();
        let cutoff = now_ms().saturating_sub(ctx.config.retention.as_millis() as u64);
        tokio::task::spawn_blocking(move || {
            match history::prune::prune(&ctx, now_ms()) {
                Ok(p) if p.blocks + p.transitions > 0 => {
                    tracing::info!(
                        blocks = p.blocks,
                        transitions = p.transitions,
                        "deleted history past retention"
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    ctx.metrics.store_errors.inc();
                    tracing::warn!(error = %e, "history prune failed");
                }
            }
            let mut pruned = 0;
            for id in ctx.live.ids() {
                match ctx.store.prune_results(&id, cutoff) {
                    Ok(n) => pruned += n,
                    Err(e) => {
                        ctx.metrics.store_errors.inc();
                        tracing::warn!(error = %e, "retention prune failed");
                        return;
                    }
                }
            }
            if pruned > 0 {
                tracing::info!(pruned, "deleted results past retention");
            }
        });
    }
}
