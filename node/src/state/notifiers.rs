//! Notifiers as a replicated kind. Stored in their own `notifiers` tree and sent as
//! [`PeerMsg::Notifiers`], as before the table existed, so older nodes and stores agree.

use ringwatch_proto::{DecodeError, Notifier, NotifierKind, PeerMsg, SmtpSecurity};

use super::table::{Definition, Stored, record_fields, records_of};
use crate::domain::notifier::NotifierInput;
use crate::store::Tree;

impl Definition for Notifier {
    const KIND: &'static str = "notifier";
    const STORED: Stored = Stored::Tree(Tree::Notifiers);

    record_fields!();

    fn bury(&mut self) {
        self.deleted = true;
    }

    /// The notifier spec's validation, as `POST /api/notifiers` applies it: the definition
    /// is written back as the input that would make it, which must make it again unchanged.
    fn validate(&self) -> Result<(), String> {
        let again = as_input(self).into_notifier()?;
        if again.name != self.name || again.kind != self.kind {
            return Err("it is not a notifier the API would make".into());
        }
        Ok(())
    }

    fn to_message(batch: Vec<Self>) -> PeerMsg {
        PeerMsg::Notifiers(batch)
    }

    fn from_message(msg: PeerMsg) -> Result<Vec<Result<Self, DecodeError>>, PeerMsg> {
        match msg {
            PeerMsg::Notifiers(ns) => Ok(ns.into_iter().map(Ok).collect()),
            other => records_of(other),
        }
    }
}

/// The input a user would write to get `n`.
fn as_input(n: &Notifier) -> NotifierInput {
    let mut input = NotifierInput {
        id: None,
        name: Some(n.name.clone()),
        kind: n.kind.as_str().to_owned(),
        url: None,
        smtp_host: None,
        smtp_port: None,
        smtp_security: None,
        smtp_username: None,
        smtp_password: None,
        from: None,
        to: None,
    };
    match &n.kind {
        NotifierKind::Webhook { url }
        | NotifierKind::Slack { url }
        | NotifierKind::Discord { url } => input.url = Some(url.clone()),
        NotifierKind::Email(e) => {
            input.smtp_host = Some(e.host.clone());
            input.smtp_port = Some(e.port);
            input.smtp_security = Some(security_name(e.security).to_owned());
            input.smtp_username = e.username.clone();
            input.smtp_password = e.password.clone();
            input.from = Some(e.from.clone());
            input.to = Some(e.to.clone());
        }
    }
    input
}

/// How the notifier input (and the API's view) names an SMTP security mode.
pub fn security_name(s: SmtpSecurity) -> &'static str {
    match s {
        SmtpSecurity::None => "none",
        SmtpSecurity::StartTls => "starttls",
        SmtpSecurity::Tls => "tls",
    }
}
