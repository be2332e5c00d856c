//! Badges: `/badge/{id}/status.svg`, `/badge/{id}/uptime.svg?window=30d` and
//! `/badge/{id}/latency.svg?window=24h`, small SVG images in the flat look of shields.io.
//!
//! A badge loads without a token when its monitor has `public_badges: true` or is on a public
//! status page ([`crate::pages::badges_public`]); otherwise it needs read scope, as the
//! monitor itself does. An unknown monitor answers 404 only to a caller who may read
//! monitors (else 401: a badge does not tell strangers which ids exist). Badges may be
//! embedded by other sites (`Cross-Origin-Resource-Policy: cross-origin`) and cached for
//! [`MAX_AGE_SECS`].

use std::collections::HashMap;

use ringwatch_proto::Scope;
use warp::http::StatusCode;
use warp::reply::{Reply, Response};

use super::error::{ApiError, ErrorBody};
use super::guard::Caller;
use super::page_html::escape;
use crate::access;
use crate::clock::now_ms;
use crate::context::Ctx;
use crate::domain::status::ShownStatus;
use crate::history::query::{DAY_MS, parse_window, stats};

/// How long a badge may be cached, by browsers and by proxies when public.
pub const MAX_AGE_SECS: u32 = 60;
/// Shortest window a badge reports on; shorter ones get 400.
pub const MIN_WINDOW_MS: u64 = 60_000;
/// Longest window a badge reports on; longer ones get 400.
pub const MAX_WINDOW_MS: u64 = 365 * DAY_MS;

/// Which badge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Status,
    Uptime,
    Latency,
}

impl Kind {
    fn of(file: &str) -> Option<Kind> {
        match file {
            "status.svg" => Some(Kind::Status),
            "uptime.svg" => Some(Kind::Uptime),
            "latency.svg" => Some(Kind::Latency),
            _ => None,
        }
    }

    fn default_window(self) -> &'static str {
        match self {
            Kind::Latency => "24h",
            _ => "30d",
        }
    }
}

const GREEN: &str = "#4c1";
const YELLOW: &str = "#dfb317";
const RED: &str = "#e05d44";
const GREY: &str = "#9f9f9f";
const BLUE: &str = "#007ec6";

/// The colour of an uptime ratio.
fn uptime_colour(u: f64) -> &'static str {
    if u >= 0.999 {
        GREEN
    } else if u >= 0.99 {
        YELLOW
    } else {
        RED
    }
}

/// Width of a text in the badge's 11 px font, roughly (as shields does without a font).
fn text_width(text: &str) -> usize {
    text.chars().count() * 7 + 10
}

/// A flat badge: `label` on grey, `value` on `colour`. Texts are escaped.
pub fn svg(label: &str, value: &str, colour: &str) -> String {
    let (lw, vw) = (text_width(label), text_width(value));
    let w = lw + vw;
    let (label, value) = (escape(label), escape(value));
    let (lx, vx) = (lw * 5, lw * 10 + vw * 5);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" \
         aria-label=\"{label}: {value}\"><title>{label}: {value}</title>\
         <linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" \
         stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
         <clipPath id=\"r\"><rect width=\"{w}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
         <g clip-path=\"url(#r)\"><rect width=\"{lw}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{lw}\" width=\"{vw}\" height=\"20\" fill=\"{colour}\"/>\
         <rect width=\"{w}\" height=\"20\" fill=\"url(#s)\"/></g>\
         <g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" \
         font-size=\"110\" transform=\"scale(.1)\">\
         <text x=\"{lx}\" y=\"150\" fill=\"#010101\" fill-opacity=\".3\">{label}</text>\
         <text x=\"{lx}\" y=\"140\">{label}</text>\
         <text x=\"{vx}\" y=\"150\" fill=\"#010101\" fill-opacity=\".3\">{value}</text>\
         <text x=\"{vx}\" y=\"140\">{value}</text></g></svg>"
    )
}

/// The label, value and colour of a status badge.
pub fn status_badge(status: ShownStatus) -> (&'static str, String, &'static str) {
    let colour = match status {
        ShownStatus::Up => GREEN,
        ShownStatus::Down => RED,
        ShownStatus::Maintenance => BLUE,
        _ => GREY,
    };
    ("status", status.as_str().to_owned(), colour)
}

/// A badge image.
#[utoipa::path(
    get,
    path = "/badge/{id}/{file}",
    operation_id = "badge",
    tag = "status pages",
    params(
        ("id" = String, Path, description = "Monitor id"),
        ("file" = String, Path, description = "`status.svg`, `uptime.svg` or `latency.svg`"),
        ("window" = Option<String>, Query, description = "For uptime (default `30d`) and latency (default `24h`, the p95 of successful checks): 1m to 365d"),
    ),
    responses(
        (status = 200, description = "The badge", body = String, content_type = "image/svg+xml"),
        (status = 400, description = "A bad window", body = ErrorBody),
        (status = 401, description = "The monitor is on no public page, has no public_badges, and no token was presented", body = ErrorBody),
        (status = 404, description = "No monitor with this id, or no such badge", body = ErrorBody),
    ),
)]
pub async fn badge(
    id: String,
    file: String,
    ctx: Ctx,
    caller: Caller,
    query: HashMap<String, String>,
) -> Result<Response, ApiError> {
    let entry = ctx.live.get(&id);
    let public = entry
        .as_ref()
        .is_some_and(|e| crate::pages::badges_public(&ctx, &e.monitor));
    if !public {
        access::require(&ctx, Scope::Read, "this badge", caller.presented())?;
    }
    let (Some(entry), Some(kind)) = (entry, Kind::of(&file)) else {
        return Err(ApiError::not_found(format!(
            "badge {file:?} of monitor {id:?}"
        )));
    };
    let window_text = query
        .get("window")
        .map_or(kind.default_window(), String::as_str);
    let window = parse_window(window_text)
        .ok()
        .filter(|w| (MIN_WINDOW_MS..=MAX_WINDOW_MS).contains(w))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "window must be a duration from 1m to 365d (e.g. 24h, 30d), not {window_text:?}"
            ))
        })?;
    let covered = super::monitors::covered(&ctx);
    let status = super::monitors::view(&ctx.ownership(), &covered, &entry).status;
    let (label, value, colour) = match kind {
        Kind::Status => {
            let (l, v, c) = status_badge(status);
            (l.to_owned(), v, c)
        }
        Kind::Uptime | Kind::Latency => {
            let (c, monitor) = (ctx.clone(), entry.monitor.clone());
            let s = tokio::task::spawn_blocking(move || stats(&c, &monitor, window, now_ms()))
                .await
                .map_err(ApiError::internal)??;
            if kind == Kind::Uptime {
                let label = format!("uptime {window_text}");
                match s.availability.uptime {
                    Some(u) => (label, format!("{:.2}%", u * 100.0), uptime_colour(u)),
                    None => (label, "no data".to_owned(), GREY),
                }
            } else {
                let label = format!("p95 {window_text}");
                match s.all.latency {
                    Some(l) => (label, format!("{} ms", l.p95_ms), GREEN),
                    None => (label, "no data".to_owned(), GREY),
                }
            }
        }
    };
    let cache = if public {
        format!("public, max-age={MAX_AGE_SECS}")
    } else {
        format!("private, max-age={MAX_AGE_SECS}")
    };
    let mut response = svg(&label, &value, colour).into_response();
    let h = response.headers_mut();
    let set = |h: &mut warp::http::HeaderMap, name: &'static str, value: &str| {
        if let Ok(v) = warp::http::HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(h, "content-type", "image/svg+xml");
    set(h, "cache-control", &cache);
    set(h, "cross-origin-resource-policy", "cross-origin");
    *response.status_mut() = StatusCode::OK;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_escape_their_texts_and_size_to_them() {
        let b = svg("uptime <30d>", "99.95% & \"more\"", GREEN);
        assert!(b.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\""));
        assert!(b.contains("uptime &lt;30d&gt;") && b.contains("99.95% &amp; &quot;more&quot;"));
        assert!(!b.contains("<30d>"));
        let width = |s: &str| -> usize {
            s.split("width=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(width(&svg("status", "down", RED)) < width(&svg("status", "maintenance", GREY)));
    }

    #[test]
    fn colours_follow_the_state_and_the_uptime() {
        assert_eq!(
            status_badge(ShownStatus::Up),
            ("status", "up".into(), GREEN)
        );
        assert_eq!(status_badge(ShownStatus::Down).2, RED);
        assert_eq!(status_badge(ShownStatus::Paused).2, GREY);
        let maintenance = status_badge(ShownStatus::Maintenance);
        assert_eq!(
            (maintenance.1.as_str(), maintenance.2),
            ("maintenance", BLUE)
        );
        assert_eq!(uptime_colour(1.0), GREEN);
        assert_eq!(uptime_colour(0.995), YELLOW);
        assert_eq!(uptime_colour(0.9), RED);
    }

    #[test]
    fn badge_files_and_windows() {
        assert_eq!(Kind::of("uptime.svg"), Some(Kind::Uptime));
        assert_eq!(Kind::of("uptime.png"), None);
        assert_eq!(Kind::Latency.default_window(), "24h");
    }
}
