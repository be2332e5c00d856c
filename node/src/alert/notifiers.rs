//! Notifier definitions: input validation (shared by the API and the config file), and the
//! one path every create, delete and peer merge takes.
//!
//! Notifiers are replicated like monitors: stored, then sent to every peer, merged last
//! writer wins by revision, deletes kept as tombstones. The in-memory table in the context
//! is what the alerter reads when it resolves a transition's channels.

use std::collections::HashMap;

use ringwatch_proto::{EmailChannel, Notifier, NotifierKind, PeerMsg, Rev, SmtpSecurity};
use serde::{Deserialize, Serialize};

use crate::context::Ctx;
use crate::store::StoreError;

/// Longest notifier name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest webhook URL or SMTP field.
pub const MAX_FIELD_LEN: usize = 2048;
/// Most email recipients of one notifier.
pub const MAX_RECIPIENTS: usize = 50;

/// A notifier as the API takes it and the config file's `[[notifiers]]` tables write it.
#[derive(Debug, Clone, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifierInput {
    /// Only in the config file: a fixed id, so every node's file names the same notifier.
    #[serde(default)]
    pub id: Option<String>,
    pub name: Option<String>,
    /// `webhook`, `slack`, `discord` or `email`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Webhook, Slack and Discord: where to POST.
    pub url: Option<String>,
    /// Email: SMTP server host and port (default 587, 465 for `tls`, 25 for `none`).
    pub smtp_host: Option<String>,
    pub smtp_port: Option<u16>,
    /// Email: `starttls` (default), `tls` or `none`.
    pub smtp_security: Option<String>,
    pub smtp_username: Option<String>,
    /// Never shown again.
    #[schema(write_only)]
    pub smtp_password: Option<String>,
    pub from: Option<String>,
    pub to: Option<Vec<String>>,
}

/// A notifier as the API shows it: the SMTP password is never shown.
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
            | NotifierKind::Discord { url } => v.url = Some(url.clone()),
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

fn security_name(s: SmtpSecurity) -> &'static str {
    match s {
        SmtpSecurity::None => "none",
        SmtpSecurity::StartTls => "starttls",
        SmtpSecurity::Tls => "tls",
    }
}

fn bounded(what: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > MAX_FIELD_LEN {
        return Err(format!("{what} must be 1-{MAX_FIELD_LEN} bytes"));
    }
    Ok(())
}

fn http_url(v: Option<String>) -> Result<String, String> {
    let url = v.ok_or("url is required for this notifier type")?;
    bounded("url", &url)?;
    let parsed = reqwest::Url::parse(&url).map_err(|e| format!("url {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "url {url:?} must be http:// or https:// with a host"
        ));
    }
    Ok(url)
}

fn mailbox(what: &str, v: &str) -> Result<(), String> {
    bounded(what, v)?;
    let ok = v
        .split_once('@')
        .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty() && !v.contains(char::is_whitespace));
    if !ok {
        return Err(format!("{what} {v:?} is not an email address"));
    }
    Ok(())
}

fn email(i: NotifierInput) -> Result<EmailChannel, String> {
    let security = match i.smtp_security.as_deref().unwrap_or("starttls") {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        "none" => SmtpSecurity::None,
        other => {
            return Err(format!(
                "smtp_security {other:?} must be starttls, tls or none"
            ));
        }
    };
    let host = i.smtp_host.ok_or("smtp_host is required for email")?;
    bounded("smtp_host", &host)?;
    let port = i.smtp_port.unwrap_or(match security {
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    });
    if port == 0 {
        return Err("smtp_port must be 1-65535".into());
    }
    let from = i.from.ok_or("from is required for email")?;
    mailbox("from", &from)?;
    let to = i.to.unwrap_or_default();
    if to.is_empty() || to.len() > MAX_RECIPIENTS {
        return Err(format!("to must list 1-{MAX_RECIPIENTS} addresses"));
    }
    for t in &to {
        mailbox("to", t)?;
    }
    if i.smtp_password.is_some() && i.smtp_username.is_none() {
        return Err("smtp_password needs smtp_username".into());
    }
    Ok(EmailChannel {
        host,
        port,
        security,
        username: i.smtp_username,
        password: i.smtp_password,
        from,
        to,
    })
}

impl NotifierInput {
    /// Checks the input and turns it into a definition (id and revision set by the caller).
    pub fn into_notifier(self) -> Result<Notifier, String> {
        let email_only = self.smtp_host.is_some() || self.from.is_some() || self.to.is_some();
        let name = self.name.clone().unwrap_or_else(|| self.kind.clone());
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("name must be at most {MAX_NAME_CHARS} characters"));
        }
        let kind = match self.kind.as_str() {
            "webhook" | "slack" | "discord" if email_only => {
                return Err(format!(
                    "{} notifiers take a url, not SMTP fields",
                    self.kind
                ));
            }
            "webhook" => NotifierKind::Webhook {
                url: http_url(self.url)?,
            },
            "slack" => NotifierKind::Slack {
                url: http_url(self.url)?,
            },
            "discord" => NotifierKind::Discord {
                url: http_url(self.url)?,
            },
            "email" if self.url.is_some() => return Err("email notifiers take no url".into()),
            "email" => NotifierKind::Email(email(self)?),
            other => {
                return Err(format!(
                    "type {other:?} must be webhook, slack, discord or email"
                ));
            }
        };
        Ok(Notifier {
            id: String::new(),
            name,
            kind,
            rev: Rev::default(),
            deleted: false,
        })
    }
}

/// Makes a fresh notifier id: `n-` and 16 hex digits.
pub fn new_id() -> String {
    format!("n-{:016x}", rand::random::<u64>())
}

/// Loads the stored notifiers into the context's table.
pub fn load(ctx: &Ctx) -> Result<(), StoreError> {
    let all = ctx.store.notifiers()?;
    let mut table = ctx.notifiers.write().unwrap_or_else(|p| p.into_inner());
    *table = all.into_iter().map(|n| (n.id.clone(), n)).collect();
    Ok(())
}

/// The live (not deleted) notifiers, by id.
pub fn live(ctx: &Ctx) -> Vec<Notifier> {
    let table = ctx.notifiers.read().unwrap_or_else(|p| p.into_inner());
    let mut v: Vec<_> = table.values().filter(|n| !n.deleted).cloned().collect();
    v.sort_by(|a, b| (a.rev.hlc, &a.id).cmp(&(b.rev.hlc, &b.id)));
    v
}

/// One notifier, unless unknown or deleted.
pub fn get(ctx: &Ctx, id: &str) -> Option<Notifier> {
    let table = ctx.notifiers.read().unwrap_or_else(|p| p.into_inner());
    table.get(id).filter(|n| !n.deleted).cloned()
}

/// Stores a new notifier (fresh id unless the input named one) and sends it to peers.
pub fn create(ctx: &Ctx, mut n: Notifier) -> Result<Notifier, StoreError> {
    if n.id.is_empty() {
        n.id = new_id();
    }
    n.rev = crate::catalog::next_rev(ctx);
    save(ctx, vec![n.clone()])?;
    Ok(n)
}

/// Deletes a notifier everywhere (a tombstone). Returns false if it did not exist.
pub fn delete(ctx: &Ctx, id: &str) -> Result<bool, StoreError> {
    let Some(mut n) = get(ctx, id) else {
        return Ok(false);
    };
    n.deleted = true;
    n.rev = crate::catalog::next_rev(ctx);
    save(ctx, vec![n])?;
    Ok(true)
}

fn save(ctx: &Ctx, ns: Vec<Notifier>) -> Result<(), StoreError> {
    ctx.store.put_notifiers(&ns)?;
    ctx.broadcast(|| PeerMsg::Notifiers(ns.clone()));
    let mut table = ctx.notifiers.write().unwrap_or_else(|p| p.into_inner());
    for n in ns {
        table.insert(n.id.clone(), n);
    }
    Ok(())
}

/// Merges definitions from a peer: the higher revision wins; the rest are ignored.
pub fn merge(ctx: &Ctx, incoming: Vec<Notifier>) {
    let newer: Vec<Notifier> = {
        let table = ctx.notifiers.read().unwrap_or_else(|p| p.into_inner());
        incoming
            .into_iter()
            .filter(|n| table.get(&n.id).is_none_or(|c| n.rev > c.rev))
            .collect()
    };
    if newer.is_empty() {
        return;
    }
    for n in &newer {
        ctx.hlc.observe(n.rev.hlc);
    }
    if let Err(e) = ctx.store.put_notifiers(&newer) {
        tracing::error!(error = %e, "could not store notifiers from a peer");
        return;
    }
    let mut table = ctx.notifiers.write().unwrap_or_else(|p| p.into_inner());
    for n in newer {
        table.insert(n.id.clone(), n);
    }
}

/// Adds the config file's notifiers that this node does not hold yet. They carry revision
/// zero, so a delete or a change through the API (any later revision) wins over the file.
pub fn seed(ctx: &Ctx, inputs: &[NotifierInput]) -> Result<(), String> {
    let mut fresh = Vec::new();
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
        let known = ctx.notifiers.read().unwrap_or_else(|p| p.into_inner());
        if !known.contains_key(&n.id) {
            fresh.push(n);
        }
    }
    if !fresh.is_empty() {
        ctx.store.put_notifiers(&fresh).map_err(|e| e.to_string())?;
        let mut table = ctx.notifiers.write().unwrap_or_else(|p| p.into_inner());
        for n in fresh {
            table.insert(n.id.clone(), n);
        }
    }
    Ok(())
}

/// The notifier table type held by the context.
pub type Table = HashMap<String, Notifier>;

#[cfg(test)]
mod tests {
    use super::*;

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
