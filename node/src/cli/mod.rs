//! The command line: `ringwatch node` runs a node; the other subcommands are HTTP clients of
//! any node (`client.rs`), `token` among them (`tokens.rs`); `cert` makes the cluster's TLS
//! certificates (`cert.rs`).

mod cert;
mod client;
mod tokens;

use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::config::Overrides;
use crate::domain::address::escape_unprintable;
use crate::domain::spec::{HeaderList, MonitorInput, StatusSpec, ZonesSpec};
use crate::domain::token::Secret;
pub use cert::CertCommand;
use client::Client;
pub use tokens::TokenCommand;

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
    /// API token, for a node with auth on (prefer the environment variable: a flag is visible
    /// to other users of the machine).
    #[arg(long, env = "RINGWATCH_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub token: Option<Secret>,
}

fn parse_secret(text: &str) -> Result<Secret, String> {
    Ok(Secret::new(text))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a node (with no flags: a single-node monitor on 127.0.0.1:8080).
    Node(Overrides),
    /// Add a monitor.
    Add(AddArgs),
    /// List monitors with their status.
    Ls {
        #[command(flatten)]
        node: NodeUrl,
    },
    /// Delete a monitor, named by its id or by its name (when no other monitor has that name).
    Rm {
        /// The monitor's id, or its exact name.
        monitor: String,
        #[command(flatten)]
        node: NodeUrl,
    },
    /// Show a monitor's uptime, checks and latency over a window.
    Stats {
        /// The monitor's id, or its exact name.
        monitor: String,
        /// How far back, e.g. 1h, 24h, 7d, 30d, 1y.
        #[arg(long, default_value = "24h")]
        window: String,
        #[command(flatten)]
        node: NodeUrl,
    },
    /// Show the cluster as the node sees it.
    Cluster {
        #[command(flatten)]
        node: NodeUrl,
    },
    /// Make, list and revoke API tokens (admin scope).
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Make the cluster CA and node certificates for mutual TLS between nodes (no node
    /// needed: files only).
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
}

/// `ringwatch add`: the monitor to create. Unset flags leave the server's defaults.
#[derive(Debug, Clone, clap::Args)]
pub struct AddArgs {
    /// http://, https:// or tcp://host:port URL to check.
    pub url: String,
    /// Time between checks, e.g. 30s, 5m.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
    /// Time a check may take, e.g. 10s, 500ms.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Display name [default: the URL].
    #[arg(long)]
    pub name: Option<String>,
    /// Accepted status codes and ranges, e.g. 200-299,404 [default: 200-399].
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub expect_status: Vec<String>,
    /// Text the body must contain.
    #[arg(long, value_name = "TEXT")]
    pub contains: Option<String>,
    /// Text the body must not contain.
    #[arg(long, value_name = "TEXT")]
    pub not_contains: Option<String>,
    /// Slowest acceptable response, e.g. 800ms; slower checks fail.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    pub max_response: Option<Duration>,
    /// HTTP method of the check [default: GET].
    #[arg(long)]
    pub method: Option<String>,
    /// A request header, 'Name: value'; repeatable.
    #[arg(long = "header", value_parser = parse_header, value_name = "'NAME: VALUE'")]
    pub headers: Vec<(String, String)>,
    /// A request header whose value is secret (shown as ***), 'Name: value'; repeatable.
    /// `Authorization`, `Cookie` and names with token, key, secret, auth... are secret anyway.
    #[arg(long = "secret-header", value_parser = parse_header, value_name = "'NAME: VALUE'")]
    pub secret_headers: Vec<(String, String)>,
    /// Request body.
    #[arg(long, value_name = "TEXT")]
    pub body: Option<String>,
    /// The request body is a secret (shown as ***).
    #[arg(long, requires = "body")]
    pub secret_body: bool,
    /// For https: fail when the certificate expires in fewer days than this.
    #[arg(long, value_name = "DAYS")]
    pub tls_min_days: Option<u32>,
    /// Accept certificates that do not verify (self-signed, wrong host).
    #[arg(long)]
    pub tls_skip_verify: bool,
    /// Consecutive failed checks before the monitor is down.
    #[arg(long, value_name = "N")]
    pub failure_threshold: Option<u32>,
    /// Consecutive good checks before a down monitor is up again.
    #[arg(long, value_name = "N")]
    pub recovery_threshold: Option<u32>,
    /// Notifier id to alert about this monitor; repeatable [default: every notifier].
    #[arg(long = "notifier", value_name = "ID")]
    pub notifiers: Vec<String>,
    /// Probe from several zones: `all`, or zone names separated by commas [default: once in
    /// the cluster].
    #[arg(long, value_name = "all|ZONE,ZONE...")]
    pub zones: Option<String>,
    /// With --zones: how many zones must see it down [default: a majority of its zones].
    #[arg(long, value_name = "N", requires = "zones")]
    pub quorum: Option<u32>,
    /// While it stays down, send a reminder at this period (`30m`, `1h`) [default: none].
    #[arg(long, value_name = "DURATION")]
    pub repeat_every: Option<String>,
    /// Its badges are public even when no public status page shows it.
    #[arg(long)]
    pub public_badges: bool,
    #[command(flatten)]
    pub node: NodeUrl,
}

/// `--zones` as the spec takes it: the word `all`, or the list of names.
fn zones_spec(text: &str) -> ZonesSpec {
    if text.trim() == "all" {
        ZonesSpec::Word("all".into())
    } else {
        ZonesSpec::List(text.split(',').map(|z| z.trim().to_owned()).collect())
    }
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not 'Name: value'"))?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl AddArgs {
    /// The monitor to create: the same spec type the API and the config file take.
    pub fn spec(&self) -> MonitorInput {
        let some_list = |list: &[String]| (!list.is_empty()).then(|| list.to_vec());
        MonitorInput {
            url: self.url.clone(),
            name: self.name.clone(),
            interval_secs: Some(self.interval.as_secs().max(1)),
            timeout_ms: Some(millis(self.timeout)),
            expect_status: some_list(&self.expect_status)
                .map(|codes| codes.into_iter().map(StatusSpec::Text).collect()),
            expect_body_contains: self.contains.clone(),
            expect_body_not_contains: self.not_contains.clone(),
            max_response_ms: self.max_response.map(millis),
            method: self.method.clone(),
            headers: (!self.headers.is_empty() || !self.secret_headers.is_empty())
                .then(|| HeaderList([&self.headers[..], &self.secret_headers[..]].concat())),
            secret_headers: (!self.secret_headers.is_empty())
                .then(|| self.secret_headers.iter().map(|(n, _)| n.clone()).collect()),
            body: self.body.clone(),
            secret_body: self.secret_body.then_some(true),
            tls_min_days: self.tls_min_days.map(u64::from),
            tls_skip_verify: self.tls_skip_verify.then_some(true),
            failure_threshold: self.failure_threshold,
            recovery_threshold: self.recovery_threshold,
            notifiers: some_list(&self.notifiers),
            zones: self.zones.as_deref().map(zones_spec),
            quorum: self.quorum,
            repeat_every: self.repeat_every.clone(),
            public_badges: self.public_badges.then_some(true),
            ..MonitorInput::default()
        }
    }
}

/// Runs a client subcommand; `node` is handled by the binary.
pub async fn run_client(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Node(_) => unreachable!("the binary runs nodes itself"),
        Command::Add(add) => {
            let c = Client::new(&add.node)?;
            let m = c
                .send(c.http.post(c.url("/api/monitors")).json(&add.spec()))
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
        Command::Rm { monitor, node } => {
            let c = Client::new(&node)?;
            let id = c.resolve_monitor(&monitor).await?;
            c.send(c.http.delete(c.monitor_url(&id)?)).await?;
            emit(&format!("deleted {id}\n"))?;
        }
        Command::Stats {
            monitor,
            window,
            node,
        } => {
            let c = Client::new(&node)?;
            let id = c.resolve_monitor(&monitor).await?;
            let mut url = c.monitor_url(&id)?;
            url.path_segments_mut()
                .map_err(|()| anyhow::anyhow!("--node {} cannot take a path", c.base))?
                .push("stats");
            url.query_pairs_mut().append_pair("window", &window);
            let stats = c.send(c.http.get(url)).await?;
            emit(&format_stats(&stats, &window))?;
        }
        Command::Cluster { node } => {
            let c = Client::new(&node)?;
            let view = c.send(c.http.get(c.url("/api/cluster"))).await?;
            emit(&format_cluster(&view))?;
        }
        Command::Token { command } => tokens::run(command).await?,
        Command::Cert { command } => cert::run(command)?,
    }
    Ok(())
}

/// Widest name `ls` shows; a longer one is cut with an ellipsis (the URL column follows).
const LS_NAME_WIDTH: usize = 24;

fn format_monitors(list: &[Value]) -> String {
    let row = |id: &str, name: &str, status: &str, latency: &str, interval: &str, owner: &str| {
        format!(
            "{id:<20} {name:<w$} {status:<8} {latency:>8} {interval:>9} {owner:<12}",
            w = LS_NAME_WIDTH
        )
    };
    let mut out = row("ID", "NAME", "STATUS", "LATENCY", "INTERVAL", "OWNER") + " URL\n";
    for m in list {
        let latency = m["last_result"]["latency_ms"]
            .as_u64()
            .map_or("-".into(), |l| format!("{l}ms"));
        let line = row(
            m["id"].as_str().unwrap_or("?"),
            &clip(
                &escape_unprintable(m["name"].as_str().unwrap_or("")),
                LS_NAME_WIDTH,
            ),
            // Failing in some zones, not enough for the quorum.
            if m["degraded"] == true {
                "degraded"
            } else {
                m["status"].as_str().unwrap_or("?")
            },
            &latency,
            &format!("{}s", m["interval_secs"]),
            m["owner"].as_str().unwrap_or("-"),
        );
        let url = escape_unprintable(m["url"].as_str().unwrap_or("?"));
        out.push_str(&format!("{line} {url}\n"));
        if m["last_result"]["ok"] == false
            && let Some(error) = m["last_result"]["error"].as_str()
        {
            let error = escape_unprintable(error);
            out.push_str(&format!("{:<20} last error: {error}\n", ""));
        }
    }
    out
}

/// `text` cut to at most `width` characters, the last one an ellipsis when it was longer.
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A ratio as a percentage with 3 decimals, or `-`.
fn percent(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |r| format!("{:.3} %", r * 100.0))
}

fn format_stats(s: &Value, window: &str) -> String {
    let ms = |v: &Value| v.as_u64().map_or("-".into(), |n| n.to_string());
    let latency = |l: &Value| {
        if l.is_null() {
            return "no successful check".to_owned();
        }
        format!(
            "min {} ms, avg {} ms, p50 {} ms, p95 {} ms, p99 {} ms, max {} ms",
            ms(&l["min"]),
            l["avg"].as_f64().map_or("-".into(), |a| format!("{a:.1}")),
            ms(&l["p50"]),
            ms(&l["p95"]),
            ms(&l["p99"]),
            ms(&l["max"]),
        )
    };
    let down = Duration::from_millis(s["down_ms"].as_u64().unwrap_or(0));
    let down = humantime::format_duration(Duration::from_secs(down.as_secs()));
    let mut out = format!(
        "monitor   {}\nwindow    {window} ({} rollups)\nuptime    {}  (down {down}, {} incidents)\nchecks    {} checks, {} ok ({})\nlatency   {}\n",
        s["monitor_id"].as_str().unwrap_or("?"),
        s["resolution"].as_str().unwrap_or("?"),
        percent(&s["uptime"]),
        s["incidents"],
        s["checks"],
        s["ok"],
        percent(&s["success_ratio"]),
        latency(&s["latency_ms"]),
    );
    let nodes = s["by_node"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !nodes.is_empty() {
        out.push_str(&format!(
            "\n{:<16} {:>9} {:>9} {:>10} {:>7} {:>7} {:>7}\n",
            "NODE", "CHECKS", "OK", "SUCCESS", "P50", "P95", "P99"
        ));
        for n in nodes {
            let l = &n["latency_ms"];
            out.push_str(&format!(
                "{:<16} {:>9} {:>9} {:>10} {:>7} {:>7} {:>7}\n",
                n["node"].as_str().unwrap_or("?"),
                // A JSON value's Display ignores the width: format the number's text.
                n["checks"].to_string(),
                n["ok"].to_string(),
                percent(&n["success_ratio"]),
                ms(&l["p50"]),
                ms(&l["p95"]),
                ms(&l["p99"]),
            ));
        }
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

/// `text` with every unprintable character escaped (see
/// [`crate::domain::address::escape_unprintable`]) except the line breaks that separate its
/// lines: what the CLI prints can never move the cursor, recolour or retitle a terminal, or
/// reorder text, whatever a server or a monitor's writer put in it.
pub fn printable(text: &str) -> String {
    text.split('\n')
        .map(escape_unprintable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes command output to stdout, [`printable`]. A closed pipe (`ringwatch ls | head`) is
/// not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(printable(text).as_bytes())
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
    use serde_json::json;

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
            Command::Add(add) => {
                assert_eq!(add.url, "http://a/");
                assert_eq!(add.interval, Duration::from_secs(1));
                assert_eq!(add.node.url, "http://n:1");
                let spec = add.spec();
                assert_eq!(spec.timeout_ms, Some(10_000));
                assert_eq!(spec.method, None, "unset flags leave the server's defaults");
            }
            other => panic!("parsed as {other:?}"),
        }
        assert!(Cli::try_parse_from(["ringwatch", "node", "--http", "nonsense"]).is_err());
    }

    #[test]
    fn stats_print_percentages_and_every_node() {
        let stats = json!({
            "monitor_id": "m-1", "resolution": "hour", "uptime": 0.99931, "down_ms": 61_500,
            "incidents": 2, "checks": 1440, "ok": 1438, "success_ratio": 0.998611,
            "latency_ms": {"min": 3, "avg": 12.25, "p50": 10, "p95": 30, "p99": 41, "max": 90},
            "by_node": [
                {"node": "n1", "checks": 1000, "ok": 999, "success_ratio": 0.999,
                 "latency_ms": {"p50": 10, "p95": 29, "p99": 40}},
                {"node": "n2", "checks": 440, "ok": 0, "success_ratio": 0.0, "latency_ms": null},
            ],
        });
        let text = format_stats(&stats, "30d");
        assert!(
            text.contains("uptime    99.931 %  (down 1m 1s, 2 incidents)"),
            "{text}"
        );
        assert!(
            text.contains("checks    1440 checks, 1438 ok (99.861 %)"),
            "{text}"
        );
        assert!(text.contains("p95 30 ms"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("n2") && l.ends_with("-")),
            "{text}"
        );
        // The node rows' numbers line up under their headings.
        let end_of = |line: &str, word: &str| line.find(word).map(|i| i + word.len());
        let head = text.lines().find(|l| l.starts_with("NODE")).unwrap();
        let n1 = text.lines().find(|l| l.starts_with("n1")).unwrap();
        assert_eq!(end_of(n1, "1000"), end_of(head, "CHECKS"), "{text}");
        assert_eq!(end_of(n1, " 999"), end_of(head, " OK"), "{text}");
        let empty = json!({"monitor_id": "m-2", "uptime": null, "latency_ms": null, "by_node": []});
        let text = format_stats(&empty, "1h");
        assert!(text.contains("uptime    -"), "{text}");
        assert!(text.contains("no successful check"), "{text}");
    }

    #[test]
    fn add_flags_become_the_create_body() {
        let args = [
            "ringwatch",
            "add",
            "https://a/",
            "--expect-status",
            "200-299,404",
            "--contains",
            "ok",
            "--not-contains",
            "error",
            "--max-response",
            "800ms",
            "--method",
            "POST",
            "--header",
            "X-Token: s3cret",
            "--header",
            "Accept:*/*",
            "--secret-header",
            "X-Tenant: t1",
            "--body",
            "{}",
            "--secret-body",
            "--tls-min-days",
            "7",
            "--tls-skip-verify",
            "--failure-threshold",
            "3",
            "--recovery-threshold",
            "2",
            "--notifier",
            "ops",
            "--notifier",
            "web",
            "--zones",
            "eu, us",
            "--quorum",
            "2",
        ];
        let Command::Add(add) = Cli::try_parse_from(args).unwrap().command else {
            panic!("not an add");
        };
        let body = serde_json::to_value(add.spec()).unwrap();
        assert_eq!(body["zones"], json!(["eu", "us"]));
        assert_eq!(body["quorum"], 2);
        let all = Cli::try_parse_from(["ringwatch", "add", "https://a/", "--zones", "all"]);
        let Command::Add(all) = all.unwrap().command else {
            panic!("not an add");
        };
        assert_eq!(serde_json::to_value(all.spec()).unwrap()["zones"], "all");
        assert!(
            Cli::try_parse_from(["ringwatch", "add", "https://a/", "--quorum", "2"]).is_err(),
            "--quorum needs --zones"
        );
        assert_eq!(body["expect_status"], json!(["200-299", "404"]));
        assert_eq!(body["expect_body_contains"], "ok");
        assert_eq!(body["expect_body_not_contains"], "error");
        assert_eq!(body["max_response_ms"], 800);
        assert_eq!(body["method"], "POST");
        assert_eq!(
            body["headers"],
            json!({"X-Token": "s3cret", "Accept": "*/*", "X-Tenant": "t1"})
        );
        assert_eq!(body["secret_headers"], json!(["X-Tenant"]));
        assert_eq!(body["body"], "{}");
        assert_eq!(body["secret_body"], true);
        assert_eq!(body["tls_min_days"], 7);
        assert_eq!(body["tls_skip_verify"], true);
        assert_eq!(body["failure_threshold"], 3);
        assert_eq!(body["recovery_threshold"], 2);
        assert_eq!(body["notifiers"], json!(["ops", "web"]));
        assert!(Cli::try_parse_from(["ringwatch", "add", "http://a/", "--header", "x"]).is_err());
        // A secret body needs a body.
        assert!(Cli::try_parse_from(["ringwatch", "add", "http://a/", "--secret-body"]).is_err());
    }

    #[test]
    fn ls_shows_each_monitor_by_name() {
        let list = [
            json!({"id": "m-1", "name": "home", "status": "up", "interval_secs": 30,
            "url": "http://a/"}),
            json!({"id": "m-2", "name": "a name much longer than the column is wide",
            "status": "pending", "interval_secs": 60, "url": "http://b/"}),
        ];
        let out = format_monitors(&list);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].contains(" NAME "), "{out}");
        assert!(
            lines[1].starts_with("m-1") && lines[1].contains(" home "),
            "{out}"
        );
        assert!(lines[2].contains(" a name much longer than… "), "{out}");
        // Columns line up: every row puts its status where the header says STATUS.
        let at = lines[0].find("STATUS").expect("STATUS column");
        assert_eq!(&lines[1][at..at + 2], "up", "{out}");
        assert_eq!(lines[2].chars().nth(at), Some('p'), "{out}");
    }

    #[test]
    fn ls_shows_the_last_error() {
        let list = [
            json!({"id": "m-1", "status": "down", "interval_secs": 30, "url": "http://a/",
            "last_result": {"ok": false, "latency_ms": 3, "error": "body does not contain \"ok\""}}),
        ];
        let out = format_monitors(&list);
        assert!(
            out.contains("last error: body does not contain \"ok\""),
            "{out}"
        );
    }

    use crate::domain::address::is_unprintable;

    #[test]
    fn printed_text_never_carries_escape_sequences() {
        let list = vec![serde_json::json!({
            "id": "m1", "name": "evil\u{1b}]0;owned\u{7}\nname", "status": "down",
            "interval_secs": 30, "url": "http://x/\u{1b}[2J",
            "last_result": {"ok": false, "error": "bad\u{9b}31m \u{202e}txt"}
        })];
        let out = printable(&format_monitors(&list));
        assert!(
            !out.chars().any(|c| c != '\n' && is_unprintable(c)),
            "{out:?}"
        );
        assert!(out.contains("http://x/\\u{1b}[2J"), "{out}");
        assert!(
            out.contains("last error: bad\\u{9b}31m \\u{202e}txt"),
            "{out}"
        );
        assert_eq!(
            out.lines().count(),
            3,
            "the name's line break is escaped: {out}"
        );
        assert_eq!(printable("a\u{1b}b\nc\n"), "a\\u{1b}b\nc\n");
    }
}
