//! Sending one notification to one channel: the message formats and the transports.
//!
//! Webhooks get the generic JSON body of `docs/contract-notes.md` (plus `event_id`, also sent as the
//! `Idempotency-Key` header, for receivers that deduplicate); Slack and Discord get their own
//! incoming-webhook formats; email goes over SMTP with lettre. Every send is bounded by
//! [`SEND_TIMEOUT`]; a non-2xx answer or an SMTP error is a failure to retry.

use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use ringwatch_proto::{EmailChannel, Notifier, NotifierKind, SmtpSecurity, Status, Transition};
use serde::Serialize;

use crate::domain::secret;

/// Longest one send may take, connect to answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// The generic webhook body.
#[derive(Debug, Serialize)]
pub struct WebhookBody<'a> {
    pub event_id: String,
    pub monitor_id: &'a str,
    pub name: String,
    pub url: String,
    pub status: Status,
    pub previous_status: Status,
    pub since_ms: u64,
    pub reason: &'a str,
    pub node: &'a str,
    pub confirmed_by: Option<&'a str>,
    pub last_result: Option<&'a ringwatch_proto::ProbeResult>,
    /// For a monitor probed from several zones: the zones that saw it down when it was
    /// decided, and how many of its zones were reachable. `null` for other monitors.
    pub zones_down: Option<&'a [String]>,
    pub zones_reachable: Option<u32>,
    /// A reminder that the monitor is still down (`repeat_every`): `status` and
    /// `previous_status` are both `down`, `since_ms` is the reminder's period boundary.
    pub reminder: bool,
}

impl<'a> WebhookBody<'a> {
    pub fn new(t: &'a Transition) -> Self {
        let (name, url) = secret::shown_transition(t);
        WebhookBody {
            event_id: t.event_id(),
            monitor_id: &t.monitor_id,
            name,
            url,
            status: t.to,
            previous_status: t.from,
            since_ms: t.at_ms,
            reason: &t.reason,
            node: &t.node,
            confirmed_by: t.confirmed_by.as_deref(),
            last_result: t.last_result.as_ref(),
            zones_down: (t.zones_reachable > 0).then_some(t.zones_down.as_slice()),
            zones_reachable: (t.zones_reachable > 0).then_some(t.zones_reachable),
            reminder: is_reminder(t),
        }
    }
}

/// Whether `t` is a reminder that a monitor is still down, not a change.
pub fn is_reminder(t: &Transition) -> bool {
    t.from == Status::Down && t.to == Status::Down
}

/// One line for people: `DOWN: shop (https://shop.test/) - status 503`; a reminder reads
/// `STILL DOWN: ...`.
pub fn headline(t: &Transition) -> String {
    let (name, url) = secret::shown_transition(t);
    headline_of(t, &name, &url)
}

/// [`headline`] with the change's name and URL as shown.
fn headline_of(t: &Transition, name: &str, url: &str) -> String {
    let what = match t.to {
        Status::Down if is_reminder(t) => "STILL DOWN",
        Status::Down => "DOWN",
        Status::Up => "UP",
        other => other.as_str(),
    };
    format!("{what}: {name} ({url}) - {}", t.reason)
}

/// The text of an email or chat message: the headline, then the details.
pub fn details(t: &Transition) -> String {
    let (name, url) = secret::shown_transition(t);
    let mut s = headline_of(t, &name, &url);
    s.push_str(&format!(
        "\n\nMonitor: {} ({})\nStatus: {} (was {})\nSince: {} (unix ms)\nDecided by: {}",
        name,
        t.monitor_id,
        t.to.as_str(),
        t.from.as_str(),
        t.at_ms,
        t.node
    ));
    if let Some(c) = &t.confirmed_by {
        s.push_str(&format!("\nConfirmed by: {c}"));
    }
    if t.zones_reachable > 0 {
        let down = if t.zones_down.is_empty() {
            "none".to_owned()
        } else {
            t.zones_down.join(", ")
        };
        s.push_str(&format!(
            "\nZones down: {down} (of {} reachable)",
            t.zones_reachable
        ));
    }
    if let Some(r) = &t.last_result {
        let code = r.status_code.map_or("none".to_owned(), |c| c.to_string());
        s.push_str(&format!(
            "\nLast check: {} ms, HTTP status {code}, by {}",
            r.latency_ms, r.node
        ));
    }
    s.push_str(&format!("\nEvent: {}\n", t.event_id()));
    s
}

/// Sends `t` to `notifier`. The error is a short text for logs and the delivery record.
pub async fn send(
    client: &reqwest::Client,
    notifier: &Notifier,
    t: &Transition,
) -> Result<(), String> {
    let work = async {
        match &notifier.kind {
            NotifierKind::Webhook { url } => post(client, url, t, &WebhookBody::new(t)).await,
            NotifierKind::Slack { url } => {
                let body = serde_json::json!({ "text": headline(t) });
                post(client, url, t, &body).await
            }
            NotifierKind::Discord { url } => {
                let body = serde_json::json!({ "content": headline(t) });
                post(client, url, t, &body).await
            }
            NotifierKind::Email(e) => email(e, t).await,
        }
    };
    match tokio::time::timeout(SEND_TIMEOUT, work).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {} s", SEND_TIMEOUT.as_secs())),
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    t: &Transition,
    body: &impl Serialize,
) -> Result<(), String> {
    let response = client
        .post(url)
        .header("Idempotency-Key", t.event_id())
        .json(body)
        .send()
        .await
        // Without the URL: a webhook URL is a secret, and this text reaches logs and the API.
        .map_err(|e| crate::probe::error_chain(&e.without_url(), false))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
}

fn mailbox(addr: &str) -> Result<Mailbox, String> {
    addr.parse().map_err(|e| format!("address {addr:?}: {e}"))
}

/// Builds the email for `t`.
pub fn email_message(e: &EmailChannel, t: &Transition) -> Result<Message, String> {
    let mut builder = Message::builder()
        .from(mailbox(&e.from)?)
        .subject(format!("[Ringwatch] {}", headline(t)))
        .header(ContentType::TEXT_PLAIN);
    for to in &e.to {
        builder = builder.to(mailbox(to)?);
    }
    builder.body(details(t)).map_err(|e| e.to_string())
}

async fn email(e: &EmailChannel, t: &Transition) -> Result<(), String> {
    let message = email_message(e, t)?;
    let builder = match e.security {
        SmtpSecurity::None => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(e.host.as_str())
        }
        SmtpSecurity::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&e.host)
            .map_err(|e| e.to_string())?,
        SmtpSecurity::Tls => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&e.host).map_err(|e| e.to_string())?
        }
    };
    let mut builder = builder.port(e.port).timeout(Some(SEND_TIMEOUT));
    if let Some(user) = &e.username {
        let password = e.password.clone().unwrap_or_default();
        builder = builder.credentials(Credentials::new(user.clone(), password));
    }
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("smtp: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringwatch_proto::ProbeResult;

    fn down() -> Transition {
        Transition {
            monitor_id: "m-1".into(),
            name: "shop".into(),
            url: "http://shop.test/".into(),
            seq: 3,
            from: Status::Up,
            to: Status::Down,
            at_ms: 1_700_000_000_000,
            reason: "unexpected status 503".into(),
            node: "n1".into(),
            confirmed_by: Some("n2".into()),
            last_result: Some(ProbeResult {
                monitor_id: "m-1".into(),
                at_ms: 1_700_000_000_000,
                ok: false,
                status_code: Some(503),
                latency_ms: 4,
                error: Some("unexpected status 503".into()),
                error_kind: None,
                node: "n1".into(),
                zone: "eu".into(),
                tls_days_left: None,
            }),
            channels: vec!["hook".into()],
            zones_down: Vec::new(),
            zones_reachable: 0,
        }
    }

    #[test]
    fn webhook_body_has_the_spec_fields() {
        let t = down();
        let json = serde_json::to_value(WebhookBody::new(&t)).unwrap();
        for field in [
            "monitor_id",
            "name",
            "url",
            "status",
            "previous_status",
            "since_ms",
            "reason",
            "node",
            "last_result",
        ] {
            assert!(json.get(field).is_some(), "missing {field}: {json}");
        }
        assert_eq!(json["status"], "down");
        assert_eq!(json["previous_status"], "up");
        assert_eq!(json["event_id"], "m-1/3");
        assert_eq!(json["last_result"]["status_code"], 503);
        assert_eq!(json["last_result"]["zone"], "eu");
        assert!(json["zones_down"].is_null(), "not a zoned monitor: {json}");

        let mut zoned = down();
        zoned.zones_down = vec!["a".into(), "b".into()];
        zoned.zones_reachable = 3;
        let json = serde_json::to_value(WebhookBody::new(&zoned)).unwrap();
        assert_eq!(json["zones_down"], serde_json::json!(["a", "b"]));
        assert_eq!(json["zones_reachable"], 3);
        assert!(details(&zoned).contains("Zones down: a, b (of 3 reachable)"));
        assert_eq!(json["reminder"], false);

        let mut again = down();
        again.from = Status::Down;
        let json = serde_json::to_value(WebhookBody::new(&again)).unwrap();
        assert_eq!(
            (&json["status"], &json["previous_status"], &json["reminder"]),
            (&"down".into(), &"down".into(), &true.into())
        );
        assert!(headline(&again).starts_with("STILL DOWN: shop"));
    }

    #[test]
    fn email_is_readable() {
        let e = EmailChannel {
            host: "127.0.0.1".into(),
            port: 25,
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: "ringwatch@example.test".into(),
            to: vec!["ops@example.test".into()],
        };
        let raw = String::from_utf8(email_message(&e, &down()).unwrap().formatted()).unwrap();
        assert!(raw.contains("Subject: [Ringwatch] DOWN: shop"), "{raw}");
        assert!(raw.contains("Confirmed by: n2"), "{raw}");
        assert!(
            email_message(
                &EmailChannel {
                    from: "bad".into(),
                    ..e
                },
                &down()
            )
            .is_err()
        );
    }
}
