//! The domain layer: the rules of the product as plain types and functions, with no I/O and no
//! actor types. It depends only on `proto`; everything else in the node builds on it.
//!
//! - [`spec`]: the monitor spec users write (API, config file, CLI), its defaults and
//!   validation.
//! - [`notifier`]: the notifier spec (API, config file) and its validation.
//! - [`names`]: what node names and config-file ids may be.
//! - [`ownership`]: who probes a monitor, whether this node does, who re-checks a down.
//! - [`hash`]: the stable hash ownership, schedules and store keys are built on.
//! - [`schedule`]: when each monitor is due, on a phase derived from its id.
//! - [`status`]: the up/down rule (count every result, decide on the owner, commit in order).
//! - [`outbox`]: notifications not yet delivered, their order, retries and backoff.
//! - [`reminders`]: repeat alerts while a monitor stays down, once per period.
//! - [`rollup`]: history buckets (counts, failures, a latency sketch) per minute, hour and
//!   day, their merge rule and the window queries over them.
//! - [`page_model`]: what a status page shows: overall state, daily bars, incidents.
//! - [`status_page`]: the status page spec (API, config file) and its validation.
//! - [`uptime`]: availability over a window from the status timeline.
//! - [`maintenance`]: maintenance windows (one-off or cron in a time zone), their validation,
//!   and which monitors are in maintenance at an instant.
//! - [`zones`]: monitors probed from several zones: verdicts, quorum, which side decides.
//! - [`address`]: addresses probes may not reach (private ranges, the node's own
//!   listeners) and characters names and URLs may not hold.
//! - [`secret`]: what counts as a secret in a definition and how it is shown redacted.
//! - [`token`]: API tokens: the secret's format and hash, and the scope each request needs.
//! - [`web`]: which `Host` and `Origin` are the node's own, what a change must be sent as,
//!   and the dashboard's session cookie.

pub mod address;
pub mod hash;
pub mod maintenance;
pub mod names;
pub mod notifier;
pub mod outbox;
pub mod ownership;
pub mod page_model;
pub mod reminders;
pub mod rollup;
pub mod schedule;
pub mod secret;
pub mod spec;
pub mod status;
pub mod status_page;
pub mod token;
pub mod uptime;
pub mod web;
pub mod zones;
