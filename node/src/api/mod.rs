//! The HTTP API and dashboard (warp). Handlers are thin: parsing and validation here, every
//! change through [`crate::catalog`], every read from the live view or the store. The OpenAPI
//! document of every route ([`openapi`]) is generated from the handlers and their types.

mod alerts;
mod badge;
mod error;
mod events;
mod guard;
mod history;
pub mod input;
mod maintenance;
mod monitors;
pub mod openapi;
mod overview;
mod page_html;
pub mod server;
mod session;
mod status_pages;
pub(crate) mod tokens;
mod views;

use std::collections::HashMap;
use std::convert::Infallible;

use bytes::{Buf, Bytes, BytesMut};
use futures::{Stream, StreamExt};

use warp::reply::Reply;
use warp::{Filter, Rejection};

pub use error::{ApiError, MAX_BODY_BYTES};

use crate::context::Ctx;

fn with_ctx(ctx: Ctx) -> impl Filter<Extract = (Ctx,), Error = Infallible> + Clone {
    warp::any().map(move || ctx.clone())
}

/// Longest a client may take to send a request body; a slower one gets 408 (the header part
/// has its own timeout, `http_header_timeout`).
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads a request body of at most [`MAX_BODY_BYTES`], with or without a content-length,
/// within [`BODY_READ_TIMEOUT`].
fn body() -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(|len: Option<u64>, s| async move {
            if len.is_some_and(|l| l > MAX_BODY_BYTES as u64) {
                return Err(warp::reject::custom(error::too_large()));
            }
            match tokio::time::timeout(BODY_READ_TIMEOUT, collect(s)).await {
                Ok(read) => read.map_err(warp::reject::custom),
                Err(_) => Err(warp::reject::custom(ApiError::new(
                    warp::http::StatusCode::REQUEST_TIMEOUT,
                    "the request body did not arrive in time",
                ))),
            }
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
        .map(overview::healthz);

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

    let stats = warp::path!("api" / "monitors" / String / "stats")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(query())
        .and_then(|id, c, q| async {
            history::stats(id, c, q).await.map_err(warp::reject::custom)
        });
    let series = warp::path!("api" / "monitors" / String / "series")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(query())
        .and_then(|id, c, q| async {
            history::series(id, c, q)
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

    let tokens = warp::path!("api" / "tokens");
    let token_create = tokens
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|c, b| async { tokens::create(c, b).await.map_err(warp::reject::custom) });
    let token_list = tokens
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|c| async { tokens::list(c).await.map_err(warp::reject::custom) });
    let token_delete = warp::path!("api" / "tokens" / String)
        .and(warp::delete())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { tokens::delete(id, c).await.map_err(warp::reject::custom) });

    let windows = warp::path!("api" / "maintenance");
    let window_create = windows
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|c, b| async {
            maintenance::create(c, b)
                .await
                .map_err(warp::reject::custom)
        });
    let window_list = windows
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|c| async { maintenance::list(c).await.map_err(warp::reject::custom) });
    let window = warp::path!("api" / "maintenance" / String);
    let window_get = window
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { maintenance::get(id, c).await.map_err(warp::reject::custom) });
    let window_patch = window
        .and(warp::patch())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|id, c, b| async {
            maintenance::patch(id, c, b)
                .await
                .map_err(warp::reject::custom)
        });
    let window_delete = window
        .and(warp::delete())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async {
            maintenance::delete(id, c)
                .await
                .map_err(warp::reject::custom)
        });
    let window_routes = window_create
        .or(window_list)
        .or(window_get)
        .or(window_patch)
        .or(window_delete)
        .map(Reply::into_response)
        .boxed();
    let pages = warp::path!("api" / "status-pages");
    let page_create = pages
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|c, b| async {
            status_pages::create(c, b)
                .await
                .map_err(warp::reject::custom)
        });
    let page_list = pages
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|c| async { status_pages::list(c).await.map_err(warp::reject::custom) });
    let page = warp::path!("api" / "status-pages" / String);
    let page_get = page
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async { status_pages::get(id, c).await.map_err(warp::reject::custom) });
    let page_patch = page
        .and(warp::patch())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|id, c, b| async {
            status_pages::patch(id, c, b)
                .await
                .map_err(warp::reject::custom)
        });
    let page_delete = page
        .and(warp::delete())
        .and(with_ctx(ctx.clone()))
        .and_then(|id, c| async {
            status_pages::delete(id, c)
                .await
                .map_err(warp::reject::custom)
        });
    let page_show = warp::path!("status" / String)
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(guard::caller())
        .and_then(|slug, c, who| async {
            status_pages::show(slug, c, who)
                .await
                .map_err(warp::reject::custom)
        });
    let badge = warp::path!("badge" / String / String)
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(guard::caller())
        .and(query())
        .and_then(|id, file, c, who, q| async {
            badge::badge(id, file, c, who, q)
                .await
                .map_err(warp::reject::custom)
        });
    let page_routes = page_create
        .or(page_list)
        .or(page_get)
        .or(page_patch)
        .or(page_delete)
        .or(page_show)
        .or(badge)
        .map(Reply::into_response)
        .boxed();

    let summary = warp::path!("api" / "summary")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(overview::summary);
    let cluster = warp::path!("api" / "cluster")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(overview::cluster);
    let events = warp::path!("api" / "events")
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .map(events::events);
    let metrics = warp::path!("metrics")
        .and(warp::get().or(warp::head()).unify())
        .and(with_ctx(ctx.clone()))
        .and(warp::header::optional::<String>("accept"))
        .and(warp::header::optional::<String>("accept-encoding"))
        .map(overview::metrics);
    let openapi = warp::path!("api" / "openapi.json")
        .and(warp::get())
        .map(openapi::openapi_json);
    let debug_partition = warp::path!("api" / "debug" / "partition")
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(body())
        .and_then(|c, b| async { partition(c, b).await.map_err(warp::reject::custom) });
    let dashboard = warp::get()
        .or(warp::head())
        .unify()
        .and(warp::path::tail())
        .and_then(dashboard);

    // Two boxed groups: one chain of every route is deeper than rustc's trait solver goes.
    let monitor_routes = healthz
        .or(create)
        .or(list)
        .or(get)
        .or(patch)
        .or(delete)
        .or(check)
        .or(results)
        .or(stats)
        .or(series)
        .or(incidents)
        .map(Reply::into_response)
        .boxed();
    let other_routes = notifier_create
        .or(notifier_list)
        .or(notifier_get)
        .or(notifier_delete)
        .or(token_create)
        .or(token_list)
        .or(token_delete)
        .or(summary)
        .or(cluster)
        .or(events)
        .or(metrics)
        .or(openapi)
        .or(debug_partition)
        .or(dashboard)
        .map(Reply::into_response)
        .boxed();
    let session = warp::path!("api" / "session");
    let session_get = session
        .and(warp::get())
        .and(with_ctx(ctx.clone()))
        .and(guard::caller())
        .and_then(|c, who| async { session::get(c, who).await.map_err(warp::reject::custom) });
    let session_login = session
        .and(warp::post())
        .and(with_ctx(ctx.clone()))
        .and(guard::caller())
        .and(body())
        .and_then(|c, who, b| async {
            session::login(c, who, b)
                .await
                .map_err(warp::reject::custom)
        });
    let session_logout = session
        .and(warp::delete())
        .and_then(|| async { session::logout().await.map_err(warp::reject::custom) });
    let session_routes = session_get
        .or(session_login)
        .or(session_logout)
        .map(Reply::into_response)
        .boxed();

    guard::guard(ctx)
        .and(
            monitor_routes
                .or(session_routes)
                .or(window_routes)
                .or(page_routes)
                .or(other_routes),
        )
        .recover(error::recover)
        .map(guard::secure_headers)
}

/// The dashboard: `/` is its page; its scripts and styles are served beside it.
#[utoipa::path(
    get,
    path = "/",
    tag = "docs",
    responses(
        (status = 200, description = "The dashboard's HTML page", body = String, content_type = "text/html"),
    ),
)]
async fn dashboard(tail: warp::path::Tail) -> Result<impl Reply, Rejection> {
    match ringwatch_dashboard::asset(tail.as_str()) {
        Some((content_type, text)) => {
            let reply = warp::reply::with_header(text, "content-type", content_type);
            Ok(warp::reply::with_header(
                reply,
                "content-security-policy",
                guard::CSP_DASHBOARD,
            ))
        }
        None => Err(warp::reject::not_found()),
    }
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
    if !c
        .links
        .peers
        .cast(crate::links::PeersMessage::Block(b.block))
    {
        return Err(ApiError::internal("the cluster transport is restarting"));
    }
    Ok(warp::reply::json(&serde_json::json!({ "ok": true })).into_response())
}
