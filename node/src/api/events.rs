//! `GET /api/events`: server-sent events of results, status changes and definition edits.

use std::convert::Infallible;

use futures::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use warp::sse::Event as SseEvent;

use crate::context::{Ctx, Event};

fn to_sse(event: &Event) -> Option<SseEvent> {
    let (name, data) = match event {
        Event::Result(r) => ("result", serde_json::to_string(&**r)),
        Event::Status {
            monitor_id,
            status,
            previous_status,
            since_ms,
        } => (
            "status",
            serde_json::to_string(&serde_json::json!({
                "monitor_id": monitor_id,
                "status": status,
                "previous_status": previous_status,
                "since_ms": since_ms,
            })),
        ),
        Event::Monitor(m) => (
            "monitor",
            serde_json::to_string(&serde_json::json!({ "id": m.id, "name": m.name, "url": m.url })),
        ),
        Event::Deleted(id) => (
            "deleted",
            serde_json::to_string(&serde_json::json!({ "id": id })),
        ),
    };
    Some(SseEvent::default().event(name).data(data.ok()?))
}

/// The event stream of one subscriber. A subscriber too slow to keep up is told how many
/// events it missed (`lagged`) and continues; it never holds the node back.
pub fn stream(ctx: &Ctx) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send + use<> {
    BroadcastStream::new(ctx.events.subscribe()).filter_map(|item| async move {
        match item {
            Ok(event) => to_sse(&event).map(Ok),
            Err(BroadcastStreamRecvError::Lagged(n)) => {
                Some(Ok(SseEvent::default().event("lagged").data(n.to_string())))
            }
        }
    })
}
