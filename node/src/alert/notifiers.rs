//! Notifier definitions: how the API shows them, and the one path every create, delete and
//! peer merge takes. What a user writes, and its validation, is [`crate::domain::notifier`].
//!
//! Notifiers are a replicated kind ([`crate::state::notifiers`]): the table `ctx.notifiers`
//! stores them, merges peers' copies last writer wins by revision and keeps deletes as
//! tombstones; this module sends each local edit to every peer. The table is what the alerter
//! reads when it resolves a transition's channels.

use ringwatch_proto::{Notifier, NotifierKind, Rev};
use serde::Serialize;

pub use crate::domain::notifier::NotifierInput;

use crate::context::Ctx;
use crate::domain::secret;
use crate::state::Table;
use crate::state::notifiers::security_name;
use crate::store::StoreError;

/// A notifier as the API shows it: the SMTP password is never shown, and a webhook URL only
/// as `scheme://host[:port]/***` (its path is the secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Notifier)]
pub struct NotifierView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_security: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<Vec<String>>,
}

impl NotifierView {
    pub fn new(n: &Notifier) -> Self {
        let mut v = NotifierView {
            id: n.id.clone(),
            name: n.name.clone(),
            kind: n.kind.as_str(),
            url: None,
            smtp_host: None,
            smtp_port: None,
            smtp_security: None,
            smtp_username: None,
            from: None,
            to: None,
        };
        match &n.kind {
            NotifierKind::Webhook { url }
            | NotifierKind::Slack { url }
            | NotifierKind::Discord { url } => v.url = Some(secret::redact_webhook(url)),
            NotifierKind::Email(e) => {
                v.smtp_host = Some(e.host.clone());
                v.smtp_port = Some(e.port);
                v.smtp_security = Some(security_name(e.security));
                v.smtp_username = e.username.clone();
                v.from = Some(e.from.clone());
                v.to = Some(e.to.clone());
            }
        }
        v
    }
}

/// Makes a fresh notifier id: `n-` and 16 hex digits.
pub fn new_id() -> String {
    format!("n-{:016x}", rand::random::<u64>())
}

/// The live (not deleted) notifiers, oldest first.
pub fn live(ctx: &Ctx) -> Vec<Notifier> {
    let mut v: Vec<Notifier> = ctx.notifiers.live().iter().map(|n| (**n).clone()).collect();
    v.sort_by(|a, b| (a.rev.hlc, &a.id).cmp(&(b.rev.hlc, &b.id)));
    v
}

/// One notifier, unless unknown or deleted.
pub fn get(ctx: &Ctx, id: &str) -> Option<Notifier> {
    ctx.notifiers.get_live(id).map(|n| (*n).clone())
}

/// Stores a new notifier (fresh id unless the input named one) and sends it to peers.
pub fn create(ctx: &Ctx, mut n: Notifier) -> Result<Notifier, StoreError> {
    if n.id.is_empty() {
        n.id = new_id();
    }
    let n = ctx.notifiers.put_one(n, &ctx.hlc)?;
    ctx.broadcast(|| Table::message(std::slice::from_ref(&n)));
    Ok((*n).clone())
}

/// Deletes a notifier everywhere (a tombstone). Returns false if it did not exist.
pub fn delete(ctx: &Ctx, id: &str) -> Result<bool, StoreError> {
    let Some(tomb) = ctx.notifiers.delete(id, &ctx.hlc)? else {
        return Ok(false);
    };
    ctx.broadcast(|| Table::message(&[tomb]));
    Ok(true)
}

/// Adds the config file's notifiers that this node does not hold yet, not even as a
/// tombstone. They carry revision zero, so a delete or a change through the API (any later
/// revision) wins over the file.
pub fn seed(table: &Table<Notifier>, inputs: &[NotifierInput]) -> Result<usize, String> {
    let mut notifiers = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.iter().enumerate() {
        let id = input
            .id
            .clone()
            .ok_or_else(|| format!("notifiers[{i}] needs an id in the config file"))?;
        let mut n = input
            .clone()
            .into_notifier()
            .map_err(|e| format!("notifiers[{i}] ({id}): {e}"))?;
        n.id = id;
        n.rev = Rev::default();
        notifiers.push(n);
    }
    Ok(table.seed(notifiers).map_err(|e| e.to_string())?.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringwatch_proto::SmtpSecurity;

    fn input(json: serde_json::Value) -> Result<Notifier, String> {
        serde_json::from_value::<NotifierInput>(json)
            .map_err(|e| e.to_string())?
            .into_notifier()
    }

    #[test]
    fn accepts_each_type() {
        let w = input(serde_json::json!({"type": "webhook", "url": "http://127.0.0.1:9/h"}));
        assert!(matches!(w.unwrap().kind, NotifierKind::Webhook { .. }));
        let s = input(serde_json::json!({"type": "slack", "url": "https://hooks.slack.test/x"}));
        assert_eq!(s.unwrap().kind.as_str(), "slack");
        let e = input(serde_json::json!({
            "type": "email", "smtp_host": "127.0.0.1", "smtp_security": "none",
            "from": "rw@example.test", "to": ["ops@example.test"]
        }))
        .unwrap();
        let NotifierKind::Email(e) = e.kind else {
            panic!("not email")
        };
        assert_eq!((e.port, e.security), (25, SmtpSecurity::None));
    }

    #[test]
    fn refuses_bad_input_with_reasons() {
        let cases = [
            (serde_json::json!({"type": "pager"}), "must be webhook"),
            (serde_json::json!({"type": "webhook"}), "url is required"),
            (
                serde_json::json!({"type": "webhook", "url": "ftp://x/"}),
                "http:// or https://",
            ),
            (
                serde_json::json!({"type": "email", "smtp_host": "h", "from": "nope", "to": ["a@b"]}),
                "not an email address",
            ),
            (
                serde_json::json!({"type": "email", "smtp_host": "h", "from": "a@b", "to": []}),
                "to must list",
            ),
            (
                serde_json::json!({"type": "webhook", "url": "http://x/", "to": ["a@b"]}),
                "not SMTP fields",
            ),
        ];
        for (json, want) in cases {
            let err = input(json.clone()).unwrap_err();
            assert!(err.contains(want), "{json}: {err}");
        }
        assert!(input(serde_json::json!({"type": "webhook", "url": "http://x/", "x": 1})).is_err());
    }

    #[test]
    fn the_view_hides_the_password() {
        let n = input(serde_json::json!({
            "type": "email", "smtp_host": "h", "smtp_username": "u", "smtp_password": "secret",
            "from": "a@b.test", "to": ["c@d.test"]
        }))
        .unwrap();
        let json = serde_json::to_string(&NotifierView::new(&n)).unwrap();
        assert!(
            !json.contains("secret") && json.contains("\"smtp_username\":\"u\""),
            "{json}"
        );
    }
}
