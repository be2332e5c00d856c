//! The HTML of a status page: server-rendered, no JavaScript, one inline style sheet allowed
//! by its hash in the page's Content-Security-Policy (nothing else may load), readable from
//! 390 px wide up, refreshed by the browser every [`REFRESH_SECS`].
//!
//! Every text that comes from a user (titles, names, descriptions, announcements, details)
//! goes through [`escape`]; hover details are `title` attributes.

use std::fmt::Write;
use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use sha2::Digest;

use super::status_pages::PageData;
use crate::domain::page_model::{DayBar, MonitorRow};

/// How often the page reloads itself.
pub const REFRESH_SECS: u32 = 60;

/// The page's one style sheet (inline, allowed by its hash).
const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2328;background:#f6f8fa}\
main{max-width:880px;margin:0 auto;padding:24px 16px 48px}\
h1{font-size:1.6em;margin:0 0 4px;overflow-wrap:anywhere}\
.desc{color:#57606a;margin:0 0 16px;white-space:pre-line;overflow-wrap:anywhere}\
.overall{padding:14px 18px;border-radius:8px;color:#fff;font-weight:600;font-size:1.15em;margin:16px 0}\
.overall.operational{background:#1a7f37}.overall.partial_outage{background:#bf8700}.overall.major_outage{background:#cf222e}\
.ann{border-left:5px solid #0969da;background:#fff;padding:10px 14px;border-radius:6px;margin:16px 0}\
.ann.warning{border-color:#bf8700}.ann.critical{border-color:#cf222e}\
.ann h2{font-size:1.05em;margin:0 0 4px;overflow-wrap:anywhere}.ann p{margin:0;white-space:pre-line;overflow-wrap:anywhere}\
section.group{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:16px 0;padding:4px 16px}\
section.group h2{font-size:1.1em;margin:10px 0;overflow-wrap:anywhere}\
.mon{padding:10px 0;border-top:1px solid #eaeef2}\
.head{display:flex;justify-content:space-between;gap:8px;align-items:baseline}\
.name{font-weight:600;overflow-wrap:anywhere;min-width:0}\
.state{font-size:.85em;font-weight:600;padding:1px 8px;border-radius:10px;background:#eaeef2;color:#57606a;white-space:nowrap}\
.st-up{background:#dafbe1;color:#1a7f37}.st-down{background:#ffebe9;color:#cf222e}\
.st-maintenance{background:#ddf4ff;color:#0969da}\
.bars{display:flex;gap:1px;height:28px;margin:8px 0 2px}\
.bars i{flex:1 1 0;min-width:0;border-radius:1px;background:#d0d7de}\
.bars i.ok{background:#2da44e}.bars i.minor{background:#d4a72c}.bars i.major{background:#cf222e}\
.legend{display:flex;justify-content:space-between;font-size:.8em;color:#57606a}\
.detail{font-size:.85em;color:#57606a;overflow-wrap:anywhere}\
table{width:100%;border-collapse:collapse;font-size:.9em}\
td,th{text-align:left;padding:6px 4px;border-top:1px solid #eaeef2;vertical-align:top;overflow-wrap:break-word}\
td:first-child{overflow-wrap:anywhere}\
footer{color:#57606a;font-size:.8em;margin-top:24px}\
@media (max-width:480px){main{padding:16px 10px 32px}.bars{gap:0;height:24px}h1{font-size:1.35em}}\
";

/// The Content-Security-Policy of a status page: its own style sheet only, by hash.
pub static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64(&sha2::Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'none'"
    )
});

/// Standard base64 with padding (for the CSP hash).
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Text made safe for HTML content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// `2026-12-03`.
fn date(ms: u64) -> String {
    rfc3339(ms)[..10].to_owned()
}

/// `2026-12-03 14:05 UTC`.
fn date_time(ms: u64) -> String {
    let t = rfc3339(ms);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

/// `1h 5m` (to the minute; seconds under a minute).
pub fn duration(ms: u64) -> String {
    let secs = ms / 1000;
    let rounded = if secs >= 60 { secs - secs % 60 } else { secs };
    humantime::format_duration(Duration::from_secs(rounded)).to_string()
}

/// A ratio as a percentage with 2 decimals.
fn percent(ratio: f64) -> String {
    format!("{:.2}%", ratio * 100.0)
}

fn day_title(d: &DayBar) -> String {
    match d.uptime {
        None => format!("{}: no data", date(d.day_ms)),
        Some(u) if d.down_ms == 0 => format!("{}: {} up", date(d.day_ms), percent(u)),
        Some(u) => format!(
            "{}: {} up, down {} ({} incident{})",
            date(d.day_ms),
            percent(u),
            duration(d.down_ms),
            d.incidents,
            if d.incidents == 1 { "" } else { "s" }
        ),
    }
}

/// A state's label: its name, capitalised (any state a later build adds shows too).
fn state_label(status: &str) -> String {
    let mut chars = status.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn monitor(out: &mut String, m: &MonitorRow) {
    let uptime = m.uptime_90d.map_or("no data".to_owned(), percent);
    let _ = write!(
        out,
        "<div class=\"mon\"><div class=\"head\"><span class=\"name\">{}</span>\
         <span class=\"state st-{}\">{}</span></div>",
        escape(&m.name),
        escape(&m.status),
        escape(&state_label(&m.status))
    );
    if let Some(url) = &m.url {
        let _ = write!(out, "<div class=\"detail\">{}</div>", escape(url));
    }
    if let Some(err) = &m.last_error {
        let _ = write!(
            out,
            "<div class=\"detail\">Last error: {}</div>",
            escape(err)
        );
    }
    out.push_str("<div class=\"bars\">");
    for d in &m.days {
        let _ = write!(
            out,
            "<i class=\"{}\" title=\"{}\"></i>",
            d.grade(),
            escape(&day_title(d))
        );
    }
    let _ = write!(
        out,
        "</div><div class=\"legend\"><span>90 days ago</span><span>{uptime} uptime</span>\
         <span>Today</span></div></div>"
    );
}

/// The whole page.
pub fn render(p: &PageData) -> String {
    let mut out = String::with_capacity(16 * 1024 + p.groups.len() * 8 * 1024);
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"{REFRESH_SECS}\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>\
         <h1>{}</h1>",
        escape(&p.title),
        escape(&p.title)
    );
    if !p.description.is_empty() {
        let _ = write!(out, "<p class=\"desc\">{}</p>", escape(&p.description));
    }
    if let Some(a) = &p.announcement {
        let _ = write!(
            out,
            "<div class=\"ann {}\" role=\"note\"><h2>{}</h2><p>{}</p></div>",
            a.severity.as_str(),
            escape(&a.title),
            escape(&a.text)
        );
    }
    let overall = serde_json::to_value(p.overall)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<div class=\"overall {overall}\" id=\"overall\">{}</div>",
        p.overall_text
    );
    for g in &p.groups {
        out.push_str("<section class=\"group\">");
        if !g.name.is_empty() {
            let _ = write!(out, "<h2>{}</h2>", escape(&g.name));
        }
        for m in &g.monitors {
            monitor(&mut out, m);
        }
        out.push_str("</section>");
    }
    out.push_str("<section class=\"group\"><h2>Incidents, last 14 days</h2>");
    if p.incidents.is_empty() {
        out.push_str("<p class=\"detail\">No incidents.</p>");
    } else {
        out.push_str(
            "<table><thead><tr><th>Monitor</th><th>Start</th><th>End</th><th>Duration</th>\
             </tr></thead><tbody>",
        );
        for i in &p.incidents {
            let end = i.end_ms.map_or("ongoing".to_owned(), date_time);
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{end}</td><td>{}</td></tr>",
                escape(&i.monitor),
                date_time(i.start_ms),
                duration(i.duration_ms)
            );
            if let Some(cause) = &i.cause {
                let _ = write!(
                    out,
                    "<tr><td colspan=\"4\" class=\"detail\">{}</td></tr>",
                    escape(cause)
                );
            }
        }
        out.push_str("</tbody></table>");
    }
    let _ = write!(
        out,
        "</section><footer>Updated {}; this page refreshes every minute.</footer>\
         </main></body></html>",
        date_time(p.generated_ms)
    );
    out
}

#[cfg(test)]
mod tests;
