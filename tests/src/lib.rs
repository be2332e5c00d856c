//! Harness for Ringwatch's multi-process integration tests.
//!
//! The tests run the real `ringwatch` binary as child processes ([`NodeProc`]) against an
//! in-test HTTP target ([`Target`]) whose behaviour per path can be switched at run time, and
//! talk to the nodes over the public HTTP API ([`Api`]); [`Cluster`] runs several nodes joined
//! together and counts probes per monitor. Everything binds `127.0.0.1:0`; every node gets its
//! own temporary directory ([`TestDir`]), kept on disk when a test fails.
//!
//! Alerting tests count notifications at two local sinks: [`WebhookSink`], an HTTP server that
//! records the POSTs it receives, and [`SmtpSink`], a minimal SMTP server that stores the
//! [`Mail`] it is sent. Both can be told to fail the next deliveries, to exercise retries.
//!
//! The tests of what an attack costs a node (half-open cluster connections, slowloris HTTP
//! connections) share their attackers and measures through [`attack`].
//!
//! Tests never sleep to synchronise: they poll a condition with a deadline ([`wait_until`],
//! [`wait_for`]). The one kind of deliberate wait is a *measurement window*
//! ([`measurement_window_until`]): counting probes at the target over a fixed span of time, or
//! checking that none arrive, needs that span to pass.

mod api;
pub mod attack;
pub mod cluster;
pub mod exposition;
mod mail;
mod node;
pub mod prometheus;
mod server;
mod smtp;
mod target;
mod tls_target;
mod webhook;

pub use api::{Api, Definition, Monitor, ProbeResult, Resp, monitor_body, monitor_path};
pub use cluster::{Cluster, ClusterView, MemberView};
pub use mail::Mail;
pub use node::{
    CliOutput, Listening, NodeProc, TestDir, ringwatch_bin, run_ringwatch, try_run_ringwatch,
};
pub use smtp::SmtpSink;
pub use target::{Behavior, SeenRequest, Target};
pub use tls_target::TlsTarget;
pub use webhook::{MAX_WEBHOOK_BODY_BYTES, Received, WebhookSink};

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often [`wait_until`] and [`wait_for`] re-check their condition.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// `n` seconds.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `n` milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Unix time in milliseconds, the clock of `at_ms` and `created_ms`.
pub fn now_ms() -> u64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("system clock before 1970");
    u64::try_from(since_epoch.as_millis()).expect("unix ms fit in u64")
}

/// Polls `cond` every [`POLL_INTERVAL`] until it returns true; panics naming `what` when it is
/// still false after `timeout`.
pub async fn wait_until(what: &str, timeout: Duration, mut cond: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if cond().await {
            return;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting until {what}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Polls `probe` every [`POLL_INTERVAL`] until it returns `Ok(value)`, and returns the value.
/// `Err(text)` means "not yet" and says what was seen; after `timeout` the test fails with
/// `what` and the last such text.
pub async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match probe().await {
            Ok(value) => return value,
            Err(last) => last,
        };
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}; last seen: {last}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Lets a measurement window run until `end`: used where the test counts events over a span
/// of time (probes per interval, or the absence of probes), never to wait for a state.
pub async fn measurement_window_until(end: Instant) {
    tokio::time::sleep_until(end.into()).await;
}

/// Locks `mutex` even when poisoned: a test that panicked while holding the lock has already
/// failed, and the data stays readable for the rest of its report.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
