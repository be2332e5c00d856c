//! The HTTP API and dashboard (warp). Handlers are thin: parsing and validation here, every
//! change through [`crate::catalog`], every read from the live view or the store.

mod alerts;
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

    let incidents = warp::path!("api" / "monitors" / String / "incidents")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { alerts::incidents(id, c).await.map_err(warp::reject::custom) });
    let notifiers = warp::path!("api" / "notifiers");
    let notifier_create = notifiers
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|c, b| async { alerts::create(c, b).await.map_err(warp::reject::custom) });
    let notifier_list = notifiers
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|c| async { alerts::list(c).await.map_err(warp::reject::custom) });
    let notifier = warp::path!("api" / "notifiers" / String);
    let notifier_get = notifier
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { alerts::get(id, c).await.map_err(warp::reject::custom) });
    let notifier_delete = notifier
        .and(warp::delete())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { alerts::delete(id, c).await.map_err(warp::reject::custom) });

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
    let debug_partition = warp::path!("api" / "debug" / "partition")
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|c, b| async { partition(c, b).await.map_err(warp::reject::custom) });
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
        .or(incidents)
        .or(notifier_create)
        .or(notifier_list)
        .or(notifier_get)
        .or(notifier_delete)
        .or(summary)
        .or(cluster)
        .or(events)
        .or(metrics)
        .or(debug_partition)
        .or(dashboard)
        .recover(error::recover)
        .with(warp::reply::with::header("cache-control", "no-store"))
}

fn cluster_view(c: &Ctx) -> serde_json::Value {
    let alive = c.alive();
    let mut owned: HashMap<&str, usize> = HashMap::new();
    let probed = c.live.probed();
    for m in &probed {
        if let Some(o) = crate::cluster::assign::owner(&m.id, &alive) {
            *owned.entry(o).or_default() += 1;
        }
    }
    let mut members = c.members.read().unwrap_or_else(|p| p.into_inner()).clone();
    if members.is_empty() {
        members.push(crate::context::MemberView {
            name: c.name.clone(),
            http: c.http_addr.get().unwrap_or(&c.config.http).to_string(),
            cluster: c
                .cluster_addr
                .get()
                .unwrap_or(&c.config.cluster)
                .to_string(),
            alive: true,
            last_heard_ms: now_ms(),
        });
    }
    let nodes: Vec<_> = members
        .iter()
        .map(|m| {
            let owns = if m.alive {
                owned.get(m.name.as_str()).copied().unwrap_or(0)
            } else {
                0
            };
            serde_json::json!({
                "name": m.name,
                "http": m.http,
                "cluster": m.cluster,
                "alive": m.alive,
                "self": m.name == c.name,
                "last_heard_ms": m.last_heard_ms,
                "monitors_owned": owns,
            })
        })
        .collect();
    serde_json::json!({ "node": c.name, "alive": *alive, "nodes": nodes })
}

/// `POST /api/debug/partition {"block": ["n2"]}`: drop all traffic with the named peers (an
/// empty list heals). Only with `allow_fault_injection`; 404 otherwise.
async fn partition(c: Ctx, body: Bytes) -> Result<warp::reply::Response, ApiError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Block {
        block: Vec<String>,
    }
    if !c.config.allow_fault_injection {
        return Err(ApiError::not_found("fault injection (disabled)"));
    }
    let b: Block = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))?;
    let peers = ractor::registry::where_is(c.actor_name("peers"))
        .ok_or_else(|| ApiError::internal("the cluster transport is restarting"))?;
    ractor::ActorRef::<crate::cluster::peers::PeersMessage>::from(peers)
        .cast(crate::cluster::peers::PeersMessage::Block(b.block))
        .map_err(ApiError::internal)?;
    Ok(warp::reply::json(&serde_json::json!({ "ok": true })).into_response())
}
