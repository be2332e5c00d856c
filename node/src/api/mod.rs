//! The HTTP API and dashboard (warp). Handlers are thin: parsing and validation here, every
//! change through [`crate::catalog`], every read from the live view or the store.

mod error;
mod events;
pub mod input;
mod monitors;
mod views;

use std::collections::HashMap;
use std::convert::Infallible;

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};

use warp::reply::Reply;
use warp::{Filter, Rejection};

pub use error::{ApiError, MAX_BODY_BYTES};

use crate::clock::now_ms;
use crate::context::Ctx;

fn with_ctx(ctx: Ctx) -> impl Filter<Extract = (Ctx,), Error = Infallible> + Clone {
    warp::any().map(move || ctx.clone())
}

/// Reads a request body of at most [`MAX_BODY_BYTES`], with or without a content-length.
fn body() -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(|len: Option<u64>, s| async move {
            if len.is_some_and(|l| l > MAX_BODY_BYTES as u64) {
                return Err(warp::reject::custom(error::too_large()));
            }
            collect(s).await.map_err(warp::reject::custom)
        })
}

async fn collect<S, B>(stream: S) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let mut stream = std::pin::pin!(stream);
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("could not read the body: {e}")))?;
        if buf.len() + chunk.remaining() > MAX_BODY_BYTES {
            return Err(error::too_large());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            buf.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    Ok(buf.freeze())
}

fn query() -> impl Filter<Extract = (HashMap<String, String>,), Error = Rejection> + Clone {
    warp::query::<HashMap<String, String>>()
}

/// Every route of a node, with errors turned into JSON.
pub fn routes(ctx: Ctx) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    let healthz = warp::path!("healthz")
        .and(warp::get())
        .map(|| warp::reply::json(&serde_json::json!({ "ok": true })));

    let monitors = warp::path!("api" / "monitors");
    let create = monitors
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|c, b| async { monitors::create(c, b).await.map_err(warp::reject::custom) });
    let list = monitors
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(query())
        .and_then(|c, q| async { monitors::list(c, q).await.map_err(warp::reject::custom) });

    let one = warp::path!("api" / "monitors" / String);
    let get = one
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { monitors::get(id, c).await.map_err(warp::reject::custom) });
    let patch = one
        .and(warp::patch())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|id, c, b| async {
            monitors::patch(id, c, b)
                .await
                .map_err(warp::reject::custom)
        });
    let delete = one
        .and(warp::delete())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { monitors::delete(id, c).await.map_err(warp::reject::custom) });
    let check = warp::path!("api" / "monitors" / String / "check")
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { monitors::check(id, c).await.map_err(warp::reject::custom) });
    let results = warp::path!("api" / "monitors" / String / "results")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(query())
        .and_then(|id, c, q| async {
            monitors::results(id, c, q)
                .await
                .map_err(warp::reject::custom)
        });

    let summary = warp::path!("api" / "summary")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(|c: Ctx| {
            let s = c.live.summary();
            warp::reply::json(&serde_json::json!({
                "total": s.total, "up": s.up, "down": s.down,
                "pending": s.pending, "paused": s.paused,
                "node": c.name, "version": env!("CARGO_PKG_VERSION"),
            }))
        });
    let cluster = warp::path!("api" / "cluster")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(|c: Ctx| warp::reply::json(&cluster_view(&c)));
    let events = warp::path!("api" / "events")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(|c: Ctx| warp::sse::reply(warp::sse::keep_alive().stream(events::stream(&c))));
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(|c: Ctx| {
            let text = c.metrics.render(
                c.live.summary(),
                c.store.corrupt_records(),
                c.store.disk_bytes(),
            );
            warp::reply::with_header(text, "content-type", "text/plain; version=0.0.4")
        });
    let dashboard =
        warp::get()
            .and(warp::path::tail())
            .and_then(|tail: warp::path::Tail| async move {
                match ringwatch_dashboard::asset(tail.as_str()) {
                    Some((content_type, text)) => {
                        Ok(warp::reply::with_header(text, "content-type", content_type))
                    }
                    None => Err(warp::reject::not_found()),
                }
            });

    healthz
        .or(create)
        .or(list)
        .or(get)
        .or(patch)
        .or(delete)
        .or(check)
        .or(results)
        .or(summary)
        .or(cluster)
        .or(events)
        .or(metrics)
        .or(dashboard)
        .recover(error::recover)
        .with(warp::reply::with::header("cache-control", "no-store"))
}

fn cluster_view(c: &Ctx) -> serde_json::Value {
    let owned = c.live.probed().len();
    serde_json::json!({
        "node": c.name,
        "nodes": [{
            "name": c.name,
            "http": c.http_addr.get().unwrap_or(&c.config.http).to_string(),
            "cluster": c.config.cluster.to_string(),
            "alive": true,
            "self": true,
            "last_heard_ms": now_ms(),
            "monitors_owned": owned,
        }],
    })
}
