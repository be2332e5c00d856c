//! `ringwatch token create|ls|rm`: API tokens, through any node (admin scope when auth is on).
//!
//! `create` prints the secret on stdout and nothing else there, so a script can take it
//! (`TOKEN=$(ringwatch token create ci --scope write)`); what it is goes to stderr. It is the
//! one output that ever shows a secret.

use anyhow::Context;
use clap::Subcommand;
use ringwatch_proto::Scope;
use serde_json::{Value, json};

use super::client::Client;
use super::{NodeUrl, emit};
use crate::domain::token::parse_scope;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token; prints its secret, which is shown only this once.
    Create {
        /// What the token is for, for people.
        name: String,
        /// read (GET, events, metrics), write (plus every change and checks) or admin (plus
        /// tokens).
        #[arg(long, value_parser = parse_scope)]
        scope: Scope,
        #[command(flatten)]
        node: NodeUrl,
    },
    /// List tokens (never their secrets).
    Ls {
        #[command(flatten)]
        node: NodeUrl,
    },
    /// Revoke a token on every node.
    Rm {
        /// The token's id (t-..., as `token ls` shows it).
        id: String,
        #[command(flatten)]
        node: NodeUrl,
    },
}

/// Runs a `token` subcommand.
pub(super) async fn run(cmd: TokenCommand) -> anyhow::Result<()> {
    match cmd {
        TokenCommand::Create { name, scope, node } => {
            let c = Client::new(&node)?;
            let body = json!({ "name": name, "scope": scope });
            let made = c
                .send(c.http.post(c.url("/api/tokens")).json(&body))
                .await?;
            let secret = made["token_secret"]
                .as_str()
                .context("the node's answer holds no token")?;
            emit(&format!("{secret}\n"))?;
            eprintln!(
                "created token {} ({name}, scope {}); its secret above is shown only this once",
                made["id"].as_str().unwrap_or("?"),
                scope.as_str()
            );
        }
        TokenCommand::Ls { node } => {
            let c = Client::new(&node)?;
            let list = c.send(c.http.get(c.url("/api/tokens"))).await?;
            emit(&format_tokens(
                list.as_array().map(Vec::as_slice).unwrap_or_default(),
            ))?;
        }
        TokenCommand::Rm { id, node } => {
            let c = Client::new(&node)?;
            let mut url = reqwest::Url::parse(&c.url("/api/tokens"))
                .with_context(|| format!("--node {} is not a URL", c.base))?;
            url.path_segments_mut()
                .map_err(|()| anyhow::anyhow!("--node {} cannot take a path", c.base))?
                .push(&id);
            c.send(c.http.delete(url)).await?;
            emit(&format!("revoked {id}\n"))?;
        }
    }
    Ok(())
}

fn format_tokens(list: &[Value]) -> String {
    let mut out = format!("{:<20} {:<6} {:<24} NAME\n", "ID", "SCOPE", "CREATED");
    for t in list {
        let created = t["created_ms"]
            .as_u64()
            .map(|ms| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
            .map_or("-".into(), |at| {
                humantime::format_rfc3339_seconds(at).to_string()
            });
        out.push_str(&format!(
            "{:<20} {:<6} {:<24} {}\n",
            t["id"].as_str().unwrap_or("?"),
            t["scope"].as_str().unwrap_or("?"),
            created,
            t["name"].as_str().unwrap_or(""),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn token_commands_parse() {
        let cli = Cli::try_parse_from([
            "ringwatch",
            "token",
            "create",
            "ci",
            "--scope",
            "write",
            "--token",
            "rw_x",
        ])
        .unwrap();
        let Command::Token { command } = cli.command else {
            panic!("not a token command");
        };
        let TokenCommand::Create { name, scope, node } = command else {
            panic!("not create");
        };
        assert_eq!((name.as_str(), scope), ("ci", Scope::Write));
        assert_eq!(node.token.unwrap().expose(), "rw_x");
        let bad = ["ringwatch", "token", "create", "ci", "--scope", "root"];
        assert!(Cli::try_parse_from(bad).is_err());
    }

    #[test]
    fn ls_shows_each_token_in_columns() {
        let list = [
            json!({"id": "t-0123456789abcdef", "name": "ci", "scope": "read",
            "created_ms": 0}),
        ];
        let out = format_tokens(&list);
        let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(
            row,
            ["t-0123456789abcdef", "read", "1970-01-01T00:00:00Z", "ci"],
            "{out}"
        );
        // Columns line up under the header.
        let at = out.find("SCOPE").unwrap();
        assert_eq!(&out.lines().nth(1).unwrap()[at..at + 4], "read", "{out}");
    }
}
