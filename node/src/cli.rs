//! The command line: `ringwatch node` runs a node; the other subcommands are HTTP clients of
//! any node.

use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use crate::config::Overrides;

#[derive(Debug, Parser)]
#[command(
    name = "ringwatch",
    version,
    about = "Distributed website-uptime monitor"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, clap::Args)]
pub struct NodeUrl {
    /// Any node of the cluster.
    #[arg(
        id = "node_url",
        long = "node",
        env = "RINGWATCH_NODE",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node (with no flags: a single-node monitor on 127.0.0.1:8080).
    Node(Overrides),
    /// Add a monitor.
    Add {
        /// http:// or https:// URL to check.
        url: String,
        /// Time between checks, e.g. 30s, 5m.
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        interval: Duration,
        /// Time a check may take, e.g. 10s, 500ms.
        #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
        timeout: Duration,
        /// Display name [default: the URL].
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        node: NodeUrl,
    },
    /// List monitors with their status.
    Ls {
        #[command(flatten)]
        node: NodeUrl,
    },
    /// Delete a monitor.
    Rm {
        id: String,
        #[command(flatten)]
        node: NodeUrl,
    },
    /// Show the cluster as the node sees it.
    Cluster {
        #[command(flatten)]
        node: NodeUrl,
    },
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    fn new(node: &NodeUrl) -> anyhow::Result<Self> {
        Ok(Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            base: node.url.trim_end_matches('/').to_owned(),
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        let resp = req
            .send()
            .await
            .with_context(|| format!("cannot reach the node at {}", self.base))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = body["error"].as_str().unwrap_or(text.as_str());
            bail!("{status}: {msg}");
        }
        Ok(body)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Runs a client subcommand; `node` is handled by the binary.
pub async fn run_client(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Node(_) => unreachable!("the binary runs nodes itself"),
        Command::Add {
            url,
            interval,
            timeout,
            name,
            node,
        } => {
            let c = Client::new(&node)?;
            let mut body = json!({
                "url": url,
                "interval_secs": interval.as_secs().max(1),
                "timeout_ms": (timeout.as_millis() as u64).max(1),
            });
            if let Some(name) = name {
                body["name"] = name.into();
            }
            let m = c
                .send(c.http.post(c.url("/api/monitors")).json(&body))
                .await?;
            emit(&format!("{}\n", m["id"].as_str().unwrap_or_default()))?;
        }
        Command::Ls { node } => {
            let c = Client::new(&node)?;
            let list = c.send(c.http.get(c.url("/api/monitors"))).await?;
            emit(&format_monitors(
                list.as_array().map(Vec::as_slice).unwrap_or_default(),
            ))?;
        }
        Command::Rm { id, node } => {
            let c = Client::new(&node)?;
            c.send(c.http.delete(c.url(&format!("/api/monitors/{id}"))))
                .await?;
            emit(&format!("deleted {id}\n"))?;
        }
        Command::Cluster { node } => {
            let c = Client::new(&node)?;
            let view = c.send(c.http.get(c.url("/api/cluster"))).await?;
            emit(&format_cluster(&view))?;
        }
    }
    Ok(())
}

fn format_monitors(list: &[Value]) -> String {
    let mut out = format!(
        "{:<20} {:<8} {:>8} {:>9} {:<12} URL\n",
        "ID", "STATUS", "LATENCY", "INTERVAL", "OWNER"
    );
    for m in list {
        let latency = m["last_result"]["latency_ms"]
            .as_u64()
            .map_or("-".into(), |l| format!("{l}ms"));
        out.push_str(&format!(
            "{:<20} {:<8} {:>8} {:>9} {:<12} {}\n",
            m["id"].as_str().unwrap_or("?"),
            m["status"].as_str().unwrap_or("?"),
            latency,
            format!("{}s", m["interval_secs"]),
            m["owner"].as_str().unwrap_or("-"),
            m["url"].as_str().unwrap_or("?"),
        ));
    }
    out
}

fn format_cluster(view: &Value) -> String {
    let mut out = format!(
        "{:<16} {:<6} {:<22} {:<22} OWNED\n",
        "NODE", "ALIVE", "HTTP", "CLUSTER"
    );
    for n in view["nodes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        out.push_str(&format!(
            "{:<16} {:<6} {:<22} {:<22} {}\n",
            n["name"].as_str().unwrap_or("?"),
            n["alive"].as_bool().unwrap_or(false),
            n["http"].as_str().unwrap_or("?"),
            n["cluster"].as_str().unwrap_or("?"),
            n["monitors_owned"],
        ));
    }
    out
}

/// Writes command output to stdout. A closed pipe (`ringwatch ls | head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_is_well_formed() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "ringwatch",
            "add",
            "http://a/",
            "--interval",
            "1s",
            "--node",
            "http://n:1",
        ])
        .unwrap();
        match cli.command {
            Command::Add {
                url,
                interval,
                node,
                ..
            } => {
                assert_eq!(url, "http://a/");
                assert_eq!(interval, Duration::from_secs(1));
                assert_eq!(node.url, "http://n:1");
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["ringwatch", "node", "--http", "nonsense"]).is_err());
    }
}
