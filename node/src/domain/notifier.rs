//! The notifier spec: what a user writes to add an alert channel, through the API or the
//! config file's `[[notifiers]]` tables, and its validation. Nothing here does I/O.

use ringwatch_proto::{EmailChannel, Notifier, NotifierKind, Rev, SmtpSecurity};
use serde::Deserialize;

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

fn bounded(what: &str, v: &str) -> Result<(), String> {
    if v.is_empty() || v.len() > MAX_FIELD_LEN {
        return Err(format!("{what} must be 1-{MAX_FIELD_LEN} bytes"));
    }
    Ok(())
}

fn http_url(v: Option<String>) -> Result<String, String> {
    let url = v.ok_or("url is required for this notifier type")?;
    bounded("url", &url)?;
    // Error texts never quote the URL: a webhook URL's path is its secret.
    let parsed = reqwest::Url::parse(&url).map_err(|e| format!("url is not a valid URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("url must be http:// or https:// with a host".into());
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
