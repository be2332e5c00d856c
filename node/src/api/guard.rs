//! The checks every request passes before its route: that it is addressed to this node
//! (`Host`, and `Origin` when a browser sends one), that a change is sent as JSON, and that its
//! token or dashboard session allows it. The rules are [`crate::domain::web`]'s and
//! [`crate::access::authorize`]'s; this module applies them to a request and answers the
//! usual JSON errors. `/healthz` passes untouched. Also: the headers every answer carries.

use std::sync::Arc;

use warp::http::{HeaderMap, HeaderValue, Method, StatusCode};
use warp::reply::{Reply, Response};
use warp::{Filter, Rejection};

use super::error::ApiError;
use crate::access::{self, Presented};
use crate::config::AuthMode;
use crate::context::Ctx;
use crate::domain::web::{self, Site};

/// What a request showed, for the handlers that need it (`/api/session`).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The `Authorization` header, if any.
    pub header: Option<String>,
    /// The session cookie's token, if any.
    pub session: Option<String>,
    /// The `Origin` header, if any (already checked to be the node's own).
    pub origin: Option<String>,
}

impl Caller {
    fn of(headers: &HeaderMap) -> Caller {
        Caller {
            header: header(headers, "authorization").map(str::to_owned),
            session: headers
                .get_all("cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(web::session_secret),
            origin: header(headers, "origin").map(str::to_owned),
        }
    }

    pub fn presented(&self) -> Presented<'_> {
        match (&self.header, &self.session) {
            (Some(h), _) => Presented::Header(h),
            (None, Some(s)) => Presented::Session(s),
            (None, None) => Presented::Nothing,
        }
    }
}

/// The site of this node: its bound HTTP address and the configured public URLs.
pub fn site(ctx: &Ctx) -> Arc<Site> {
    let listen = ctx.http_addr.get().copied().unwrap_or(ctx.config.http);
    Arc::new(Site::new(listen, &ctx.config.public_urls))
}

/// Lets a request through only if every check passes.
pub fn guard(ctx: Ctx) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    let site = site(&ctx);
    warp::method()
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and_then(
            move |method: Method, path: warp::path::FullPath, headers: HeaderMap| {
                let (ctx, site) = (ctx.clone(), site.clone());
                async move {
                    check(&ctx, &site, &method, path.as_str(), &headers)
                        .map(|_| ())
                        .map_err(warp::reject::custom)
                }
            },
        )
        .untuple_one()
}

/// Who a request came from (after [`guard`] let it through).
pub fn caller() -> impl Filter<Extract = (Caller,), Error = std::convert::Infallible> + Clone {
    warp::header::headers_cloned().map(|headers: HeaderMap| Caller::of(&headers))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn check(
    ctx: &Ctx,
    site: &Site,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    if path == "/healthz" {
        return Ok(Caller::default());
    }
    let host = header(headers, "host").unwrap_or_default();
    if !site.allows_host(host) {
        return Err(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this node does not answer for the host {host:?}: reach it at its own address, \
                 or add the URL you use to public_urls"
            ),
        ));
    }
    let origin = header(headers, "origin");
    if let Some(origin) = origin
        && !site.allows_origin(origin)
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "requests from the origin {origin:?} are refused: only this node's own pages \
                 (and public_urls) may call its API from a browser"
            ),
        ));
    }
    let caller = Caller::of(headers);
    let by_session =
        ctx.config.auth == AuthMode::On && matches!(caller.presented(), Presented::Session(_));
    if by_session && web::is_change(method.as_str()) && origin.is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a change made with the dashboard session must come from the dashboard (no Origin)",
        ));
    }
    access::authorize(ctx, method.as_str(), path, caller.presented()).map_err(ApiError::from)?;
    let content_type = header(headers, "content-type");
    let has_body = headers.contains_key("transfer-encoding")
        || header(headers, "content-length").is_some_and(|l| l.trim() != "0");
    if let Some(why) = web::change_content_problem(method.as_str(), content_type, has_body) {
        return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, why));
    }
    Ok(caller)
}

/// The Content-Security-Policy of answers that are not the dashboard's page: nothing may be
/// loaded, and no page may frame them.
const CSP_DEFAULT: &str = "default-src 'none'; frame-ancestors 'none'";
/// The dashboard page's policy: everything from this node only, and no framing (which a
/// `<meta>` policy cannot say).
pub const CSP_DASHBOARD: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Adds the headers every answer carries: no MIME sniffing, no framing, no referrer to other
/// sites; unless the handler set its own (badges, status pages): a CSP that loads nothing,
/// not readable by other origins' pages, never cached.
pub fn secure_headers(reply: impl Reply) -> Response {
    let mut response = reply.into_response();
    let h = response.headers_mut();
    let fixed = [
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    let defaults = [
        ("content-security-policy", CSP_DEFAULT),
        ("cross-origin-resource-policy", "same-origin"),
        ("cache-control", "no-store"),
    ];
    for (name, value) in defaults {
        if !h.contains_key(name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}
