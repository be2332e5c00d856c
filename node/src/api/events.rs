//! `GET /api/events`: server-sent events of results, status changes and definition edits.

use std::convert::Infallible;

use futures::{Stream, StreamExt};
use ringwatch_proto::{ProbeResult, Status};
use serde::Serialize;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use utoipa::openapi::{Ref, RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};
use warp::sse::Event as SseEvent;

use crate::context::{Ctx, Event};
use crate::domain::secret;
use crate::live::ShownStatus;

/// The data of a `status` event: a monitor's status changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusEvent<'a> {
    pub monitor_id: &'a str,
    /// The new status, shown as `maintenance` while a window covers the monitor (a pause or
    /// a resume during a window, say).
    pub status: ShownStatus,
    pub previous_status: Status,
    /// Unix ms of the change.
    pub since_ms: u64,
}

/// The data of a `monitor` event: a monitor was created or changed. Secrets are redacted as
/// in the monitor's view.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitorEvent<'a> {
    pub id: &'a str,
    #[schema(value_type = String)]
    pub name: std::borrow::Cow<'a, str>,
    #[schema(value_type = String)]
    pub url: std::borrow::Cow<'a, str>,
}

/// The data of a `deleted` event: a monitor was deleted.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedEvent<'a> {
    pub id: &'a str,
}

/// Each event name with the schema of its JSON data, for the OpenAPI document (which lists
/// them as `x-events` of the events route: OpenAPI 3.1 has no words for an event stream).
pub fn data_schemas() -> Vec<(&'static str, RefOr<Schema>)> {
    let named = |name: std::borrow::Cow<'static, str>| RefOr::from(Ref::from_schema_name(name));
    vec![
        ("result", named(ProbeResult::name())),
        ("status", named(StatusEvent::name())),
        ("monitor", named(MonitorEvent::name())),
        ("deleted", named(DeletedEvent::name())),
        // The number of events a slow subscriber missed.
        ("lagged", u64::schema()),
    ]
}

/// The event as sent; `in_maintenance` says whether a monitor is in maintenance now.
fn to_sse(event: &Event, in_maintenance: impl FnOnce(&str) -> bool) -> Option<SseEvent> {
    let (name, data) = match event {
        Event::Result(r) => ("result", serde_json::to_string(&**r)),
        Event::Status {
            monitor_id,
            status,
            previous_status,
            since_ms,
        } => (
            "status",
            serde_json::to_string(&StatusEvent {
                monitor_id,
                status: ShownStatus::of(*status, in_maintenance(monitor_id)),
                previous_status: *previous_status,
                since_ms: *since_ms,
            }),
        ),
        Event::Monitor(m) => (
            "monitor",
            serde_json::to_string(&MonitorEvent {
                id: &m.id,
                name: secret::monitor_name(m, &secret::monitor_secrets(m)),
                url: secret::redact_url(&m.url),
            }),
        ),
        Event::Deleted(id) => ("deleted", serde_json::to_string(&DeletedEvent { id })),
    };
    Some(SseEvent::default().event(name).data(data.ok()?))
}

/// Server-sent events of results, status changes and definition edits, as they happen.
///
/// Each event's `event:` line names it and its `data:` line is JSON: `result` a ProbeResult,
/// `status` a StatusEvent, `monitor` a MonitorEvent, `deleted` a DeletedEvent; `lagged` carries
/// the number of events a slow subscriber missed (`x-events` maps each name to its schema).
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "events",
    responses(
        (status = 200, description = "An endless text/event-stream", body = String, content_type = "text/event-stream"),
    ),
)]
pub fn events(c: Ctx) -> impl warp::Reply {
    warp::sse::reply(warp::sse::keep_alive().stream(stream(&c)))
}

/// The event stream of one subscriber. A subscriber too slow to keep up is told how many
/// events it missed (`lagged`) and continues; it never holds the node back.
pub fn stream(ctx: &Ctx) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send + use<> {
    let ctx = ctx.clone();
    BroadcastStream::new(ctx.events.subscribe()).filter_map(move |item| {
        let ctx = ctx.clone();
        async move {
            match item {
                Ok(event) => {
                    let now = crate::clock::now_ms();
                    to_sse(&event, |id| ctx.in_maintenance(id, now)).map(Ok)
                }
                Err(BroadcastStreamRecvError::Lagged(n)) => {
                    Some(Ok(SseEvent::default().event("lagged").data(n.to_string())))
                }
            }
        }
    })
}
