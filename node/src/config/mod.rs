//! Node configuration: defaults, then the config file, then `RINGWATCH_*` environment
//! variables, then command-line flags, each overriding the one before.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::domain::names::{PLAIN_NAME_RULE, is_plain_name};

pub mod expand;
mod security;
use crate::domain::token::{Secret, validate_admin_token};
pub use security::TlsPaths;

/// The cookie nodes use when none is configured. A node running with it logs a warning.
pub const DEFAULT_COOKIE: &str = "ringwatch-insecure-default-cookie";

/// Why the configuration could not be loaded. The process exits with status 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("invalid config file {path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Default of `max_monitors`: above the 200,000 monitors a node is benchmarked with (about
/// 2 KiB of memory each), far below what would exhaust a small machine.
pub const DEFAULT_MAX_MONITORS: usize = 250_000;

/// Whether the HTTP API asks for tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    /// Every `/api` request and `/metrics` need `Authorization: Bearer <token>` of a scope
    /// large enough; `/healthz` and the dashboard's files stay public.
    On,
    /// Anyone who reaches the HTTP address may do anything. Only allowed on a loopback
    /// address, unless `allow_auth_off` says otherwise.
    #[default]
    Off,
}

pub use crate::domain::zones::DEFAULT_ZONE;

/// Everything a node needs to start. Field docs double as the config file reference.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Name of this node, shown to users and stamped on every result it produces. Stable
    /// across restarts. Default: `node-<cluster port>`.
    pub name: String,
    /// The location this node probes from (a region, a data centre, a provider): nodes of one
    /// zone share a network path to the targets. Shown in the cluster view and in every check's
    /// `User-Agent` (`ringwatch/<version> (zone <name>)`). Default: `default`.
    pub zone: String,
    /// Address of the HTTP API and dashboard.
    pub http: SocketAddr,
    /// Other URLs the HTTP API and dashboard are reached at (a DNS name, a reverse proxy,
    /// a forwarded port), e.g. `["https://status.example.com"]`. Requests whose `Host` or
    /// `Origin` is neither this node's own address (with its `localhost` forms on a loopback
    /// address) nor one of these are refused (421 and 403): that stops DNS rebinding and
    /// cross-site requests. Only the scheme, host and port of each count.
    pub public_urls: Vec<String>,
    /// A client must send a request's headers within this long, and an idle keep-alive
    /// connection is closed after it: slow or silent clients do not hold connections.
    #[serde(with = "humantime_serde")]
    pub http_header_timeout: Duration,
    /// HTTP connections open at once (event streams count); more are answered 503 and closed.
    pub http_max_connections: usize,
    /// Address other nodes reach this one on.
    pub cluster: SocketAddr,
    /// Data directory. Default: `./data/<name>`.
    pub data: Option<PathBuf>,
    /// Cluster addresses of running nodes to join (any one is enough).
    pub join: Vec<String>,
    /// Shared secret of the cluster: every node must have the same. The default is public
    /// (it is in this source code), so a node whose cluster address is not loopback refuses
    /// to start with it. Also `cookie_file`, or `${VAR}`.
    pub cookie: String,
    /// The cluster CA's certificate (PEM, from `ringwatch cert init`). With
    /// `tls_cert_file` and `tls_key_file` it turns on mutual TLS: every cluster session,
    /// incoming and outgoing, is encrypted, and a peer is accepted only with a certificate
    /// signed by this CA whose name (SAN) is the node name it uses. Set all three or none.
    pub tls_ca_file: Option<PathBuf>,
    /// This node's certificate (PEM, from `ringwatch cert issue NAME`), its node name as SAN.
    pub tls_cert_file: Option<PathBuf>,
    /// This node's private key (PEM, from `ringwatch cert issue NAME`; keep it 0600).
    pub tls_key_file: Option<PathBuf>,
    /// Run the cluster transport without TLS although the cluster address is not loopback:
    /// anyone on the network path reads every definition and result, secrets included. An
    /// explicit opt-out for networks you trust (a private link, a VPN), the
    /// `--allow-plaintext-cluster` flag.
    pub allow_plaintext_cluster: bool,
    /// Prober actors on this node. Default: the number of CPU cores.
    pub probers: usize,
    /// How long raw results are kept before the background prune deletes them.
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    /// How long minute rollups (checks, uptime and latency per minute) are kept.
    #[serde(with = "humantime_serde")]
    pub retention_minutes: Duration,
    /// How long hour rollups are kept.
    #[serde(with = "humantime_serde")]
    pub retention_hours: Duration,
    /// How long day rollups, status changes and incidents are kept.
    #[serde(with = "humantime_serde")]
    pub retention_days: Duration,
    /// How often the retention prune runs.
    #[serde(with = "humantime_serde")]
    pub prune_every: Duration,
    /// Memory the store may use as page cache, in MiB.
    pub store_cache_mb: u64,
    /// Silence after which a peer is declared dead and its monitors move.
    #[serde(with = "humantime_serde")]
    pub heartbeat_timeout: Duration,
    /// A peer dead this long is forgotten.
    #[serde(with = "humantime_serde")]
    pub forget_after: Duration,
    /// Checks allowed in flight at once on this node; more wait (and show as schedule lag).
    pub max_concurrent_checks: usize,
    /// Most monitors the cluster may hold (paused ones count, deleted ones do not): a create
    /// that would go past it is refused with 409. Checked by the node that takes the request
    /// against the monitors it holds; give every node the same value.
    pub max_monitors: usize,
    /// Enables `POST /api/debug/partition` (fault injection for tests). Never in production.
    pub allow_fault_injection: bool,
    /// Before a monitor goes down, have another live node re-check it; it goes down only if
    /// that check fails too. Has no effect on a single node.
    pub second_opinion: bool,
    /// Keep probes out of loopback, private, link-local, unique-local and unspecified
    /// addresses (checked on the resolved address of every hop, `tcp://` checks too): for
    /// clusters where people you do not trust may write monitors. Monitors with such a
    /// literal address are refused with 400; a name that resolves to one fails its checks
    /// with `refused`. Off by default (a monitor of `http://127.0.0.1` is a normal thing).
    /// Probes never reach this node's own HTTP or cluster address, whatever this says.
    pub block_private_targets: bool,
    /// Per-monitor series on `GET /metrics` (status, latency, HTTP code, TLS days, checks by
    /// outcome, uptime): about 11 series per monitor, each exposed by the monitor's owner
    /// only. Off leaves the node-level series.
    pub metrics_per_monitor: bool,
    /// Serve `GET /metrics` without a token even when auth is on (it needs scope `read`
    /// otherwise). Monitor ids and names show in it (a monitor without a name is named by its
    /// URL, password hidden); secrets, headers and errors never do.
    pub metrics_public: bool,
    /// Alert channels every node of the cluster knows at start (each needs a fixed `id`);
    /// more can be added through `POST /api/notifiers`.
    pub notifiers: Vec<crate::domain::notifier::NotifierInput>,
    /// Monitors the cluster should have (each needs a fixed `id`; the other keys are those
    /// of `POST /api/monitors`). Added when the node does not know the id yet; later changes
    /// and deletes through the API win over the file.
    pub monitors: Vec<crate::domain::spec::MonitorSeed>,
    /// Maintenance windows the cluster should have (each needs a fixed `id`; the other keys
    /// are those of `POST /api/maintenance`). Added when the node does not know the id yet;
    /// later changes and deletes through the API win over the file.
    pub maintenance: Vec<crate::domain::maintenance::MaintenanceSeed>,
    /// Status pages the cluster should have (each needs a fixed `id`; the other keys are
    /// those of `POST /api/status-pages`), added like `monitors`: when the node does not know
    /// the id yet; later changes and deletes through the API win over the file.
    pub status_pages: Vec<crate::domain::status_page::StatusPageSeed>,
    /// `"on"`: the API asks for tokens (see `admin_token`); `"off"`: it does not, which a
    /// node only accepts on a loopback HTTP address unless `allow_auth_off` is set.
    pub auth: AuthMode,
    /// Run with auth off on an address that is not loopback (anyone who reaches it may change
    /// everything). An explicit opt-out; the `--allow-auth-off` flag.
    pub allow_auth_off: bool,
    /// The bootstrap admin token (at least 20 printable characters, e.g. `openssl rand -hex
    /// 32`): accepted with admin scope by this node, compared by hash, never stored or sent.
    /// Give every node the same one to bootstrap a cluster. `RINGWATCH_ADMIN_TOKEN` overrides.
    pub admin_token: Option<Secret>,
    /// A file holding the bootstrap admin token (surrounding whitespace ignored), instead of
    /// `admin_token`.
    pub admin_token_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: String::new(),
            zone: DEFAULT_ZONE.to_owned(),
            http: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_urls: Vec::new(),
            http_header_timeout: Duration::from_secs(10),
            http_max_connections: 1024,
            cluster: SocketAddr::from(([127, 0, 0, 1], 7800)),
            data: None,
            join: Vec::new(),
            cookie: DEFAULT_COOKIE.to_owned(),
            tls_ca_file: None,
            tls_cert_file: None,
            tls_key_file: None,
            allow_plaintext_cluster: false,
            probers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            retention: Duration::from_secs(48 * 3600),
            retention_minutes: Duration::from_secs(48 * 3600),
            retention_hours: Duration::from_secs(400 * 24 * 3600),
            retention_days: Duration::from_secs(1826 * 24 * 3600),
            prune_every: Duration::from_secs(600),
            store_cache_mb: 64,
            heartbeat_timeout: Duration::from_secs(3),
            forget_after: Duration::from_secs(24 * 3600),
            allow_fault_injection: false,
            max_concurrent_checks: 10_000,
            max_monitors: DEFAULT_MAX_MONITORS,
            second_opinion: true,
            block_private_targets: false,
            metrics_per_monitor: true,
            metrics_public: false,
            notifiers: Vec::new(),
            monitors: Vec::new(),
            maintenance: Vec::new(),
            status_pages: Vec::new(),
            auth: AuthMode::Off,
            allow_auth_off: false,
            admin_token: None,
            admin_token_file: None,
        }
    }
}

/// Command-line and environment overrides; `None` leaves the file's or default value.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    /// Config file (TOML); see cluster.toml for every key.
    #[arg(long, env = "RINGWATCH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Node name, stable across restarts [default: node-PORT, PORT being the cluster port].
    #[arg(long, env = "RINGWATCH_NAME")]
    pub name: Option<String>,
    /// The location this node probes from [default: default].
    #[arg(long, env = "RINGWATCH_ZONE")]
    pub zone: Option<String>,
    /// HTTP API and dashboard address [default: 127.0.0.1:8080].
    #[arg(long, env = "RINGWATCH_HTTP")]
    pub http: Option<SocketAddr>,
    /// Another URL the dashboard is reached at (DNS name, proxy); repeatable.
    #[arg(
        long = "public-url",
        env = "RINGWATCH_PUBLIC_URLS",
        value_delimiter = ','
    )]
    pub public_urls: Vec<String>,
    /// Cluster address [default: 127.0.0.1:7800].
    #[arg(long, env = "RINGWATCH_CLUSTER")]
    pub cluster: Option<SocketAddr>,
    /// Data directory [default: ./data/NAME].
    #[arg(long, env = "RINGWATCH_DATA")]
    pub data: Option<PathBuf>,
    /// Cluster address of a running node to join; repeatable.
    #[arg(long, env = "RINGWATCH_JOIN", value_delimiter = ',')]
    pub join: Vec<String>,
    /// Shared cluster secret.
    #[arg(long, env = "RINGWATCH_COOKIE", hide_env_values = true)]
    pub cookie: Option<String>,
    /// Cluster CA certificate (PEM) for mutual TLS between nodes (with --tls-cert-file and
    /// --tls-key-file; see `ringwatch cert`).
    #[arg(long, env = "RINGWATCH_TLS_CA_FILE")]
    pub tls_ca_file: Option<PathBuf>,
    /// This node's certificate (PEM), signed by the cluster CA.
    #[arg(long, env = "RINGWATCH_TLS_CERT_FILE")]
    pub tls_cert_file: Option<PathBuf>,
    /// This node's private key (PEM).
    #[arg(long, env = "RINGWATCH_TLS_KEY_FILE")]
    pub tls_key_file: Option<PathBuf>,
    /// Run the cluster transport without TLS although the cluster address is not loopback.
    #[arg(long, env = "RINGWATCH_ALLOW_PLAINTEXT_CLUSTER")]
    pub allow_plaintext_cluster: bool,
    /// Prober actors on this node [default: CPU cores].
    #[arg(long, env = "RINGWATCH_PROBERS")]
    pub probers: Option<usize>,
    /// Raw result retention, e.g. 7d or 12h [default: 48h].
    #[arg(long, env = "RINGWATCH_RETENTION", value_parser = humantime::parse_duration)]
    pub retention: Option<Duration>,
    /// Silence after which a peer counts as dead [default: 3s].
    #[arg(long, env = "RINGWATCH_HEARTBEAT_TIMEOUT", value_parser = humantime::parse_duration)]
    pub heartbeat_timeout: Option<Duration>,
    /// Ask another node to confirm before a monitor goes down [default: true].
    #[arg(long, env = "RINGWATCH_SECOND_OPINION")]
    pub second_opinion: Option<bool>,
    /// Enable the fault-injection endpoint (tests only).
    #[arg(long, env = "RINGWATCH_ALLOW_FAULT_INJECTION", hide = true)]
    pub allow_fault_injection: bool,
    /// Per-monitor series on /metrics [default: true].
    #[arg(long, env = "RINGWATCH_METRICS_PER_MONITOR")]
    pub metrics_per_monitor: Option<bool>,
    /// Serve /metrics without a token when auth is on.
    #[arg(long, env = "RINGWATCH_METRICS_PUBLIC")]
    pub metrics_public: bool,
    /// Ask API clients for tokens [default: off; a non-loopback --http needs on].
    #[arg(long, env = "RINGWATCH_AUTH", value_enum)]
    pub auth: Option<AuthMode>,
    /// Run with auth off although the HTTP address is not loopback (anyone may change anything).
    #[arg(long, env = "RINGWATCH_ALLOW_AUTH_OFF")]
    pub allow_auth_off: bool,
    /// File holding the bootstrap admin token (or set RINGWATCH_ADMIN_TOKEN).
    #[arg(long, env = "RINGWATCH_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<PathBuf>,
    /// The bootstrap admin token, from `RINGWATCH_ADMIN_TOKEN` only: a flag would show it to
    /// every user of the machine (`ps`).
    #[arg(skip = admin_token_from_env())]
    pub admin_token: Option<Secret>,
}

/// `RINGWATCH_ADMIN_TOKEN`, if set and not empty.
fn admin_token_from_env() -> Option<Secret> {
    std::env::var("RINGWATCH_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .map(Secret::new)
}

impl Config {
    /// How long each kind of history is kept.
    pub fn history_retention(&self) -> crate::domain::rollup::Retention {
        crate::domain::rollup::Retention {
            raw_ms: self.retention.as_millis() as u64,
            minute_ms: self.retention_minutes.as_millis() as u64,
            hour_ms: self.retention_hours.as_millis() as u64,
            day_ms: self.retention_days.as_millis() as u64,
        }
    }

    /// Parses a config file's text: `${VAR}` and the `_file` forms of secrets first
    /// ([`expand`]), then the keys.
    pub fn from_toml(text: &str, path: &str) -> Result<Config, ConfigError> {
        let parse = |e: toml::de::Error| ConfigError::Parse {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let mut table: toml::Table = toml::from_str(text).map_err(parse)?;
        expand::expand(&mut table, "")?;
        toml::Value::Table(table).try_into().map_err(parse)
    }

    /// Defaults, then the config file (if any), then environment and flags.
    pub fn load(o: &Overrides) -> Result<Config, ConfigError> {
        let mut c = match &o.config {
            Some(path) => Self::from_toml(&read(path)?, &path.display().to_string())?,
            None => Config::default(),
        };
        if let Some(v) = &o.name {
            c.name = v.clone();
        }
        if let Some(v) = &o.zone {
            c.zone = v.clone();
        }
        if let Some(v) = o.http {
            c.http = v;
        }
        if !o.public_urls.is_empty() {
            c.public_urls = o.public_urls.clone();
        }
        if let Some(v) = o.cluster {
            c.cluster = v;
        }
        if let Some(v) = &o.data {
            c.data = Some(v.clone());
        }
        if !o.join.is_empty() {
            c.join = o.join.clone();
        }
        if let Some(v) = &o.cookie {
            c.cookie = v.clone();
        }
        for (flag, key) in [
            (&o.tls_ca_file, &mut c.tls_ca_file),
            (&o.tls_cert_file, &mut c.tls_cert_file),
            (&o.tls_key_file, &mut c.tls_key_file),
        ] {
            if let Some(v) = flag {
                *key = Some(v.clone());
            }
        }
        if o.allow_plaintext_cluster {
            c.allow_plaintext_cluster = true;
        }
        if let Some(v) = o.probers {
            c.probers = v;
        }
        if let Some(v) = o.retention {
            c.retention = v;
        }
        if let Some(v) = o.heartbeat_timeout {
            c.heartbeat_timeout = v;
        }
        if let Some(v) = o.second_opinion {
            c.second_opinion = v;
        }
        if o.allow_fault_injection {
            c.allow_fault_injection = true;
        }
        if let Some(v) = o.metrics_per_monitor {
            c.metrics_per_monitor = v;
        }
        if o.metrics_public {
            c.metrics_public = true;
        }
        if let Some(v) = o.auth {
            c.auth = v;
        }
        if o.allow_auth_off {
            c.allow_auth_off = true;
        }
        if let Some(v) = &o.admin_token {
            (c.admin_token, c.admin_token_file) = (Some(v.clone()), None);
        }
        if let Some(v) = &o.admin_token_file {
            (c.admin_token, c.admin_token_file) = (None, Some(v.clone()));
        }
        c.finish()
    }

    /// Fills derived defaults and checks ranges.
    pub fn finish(mut self) -> Result<Config, ConfigError> {
        if self.name.is_empty() {
            self.name = format!("node-{}", self.cluster.port());
        }
        if !is_plain_name(&self.name) {
            return Err(ConfigError::Invalid(format!(
                "node name {:?} must be {PLAIN_NAME_RULE}",
                self.name
            )));
        }
        if !is_plain_name(&self.zone) {
            return Err(ConfigError::Invalid(format!(
                "zone {:?} must be {PLAIN_NAME_RULE}",
                self.zone
            )));
        }
        if self.data.is_none() {
            self.data = Some(Path::new("data").join(&self.name));
        }
        if !(1..=1_000_000).contains(&self.max_concurrent_checks) {
            return Err(ConfigError::Invalid(
                "max_concurrent_checks must be 1-1000000".into(),
            ));
        }
        if self.max_monitors == 0 {
            return Err(ConfigError::Invalid(
                "max_monitors must be at least 1".into(),
            ));
        }
        if !(1..=256).contains(&self.probers) {
            return Err(ConfigError::Invalid("probers must be 1-256".into()));
        }
        if self.retention < Duration::from_secs(60) {
            return Err(ConfigError::Invalid("retention must be at least 1m".into()));
        }
        let steps = [
            ("retention_minutes", self.retention_minutes, 60),
            ("retention_hours", self.retention_hours, 3600),
            ("retention_days", self.retention_days, 24 * 3600),
        ];
        for (key, kept, step) in steps {
            if kept < Duration::from_secs(step) {
                return Err(ConfigError::Invalid(format!(
                    "{key} must be at least one step ({})",
                    humantime::format_duration(Duration::from_secs(step))
                )));
            }
        }
        if self.heartbeat_timeout < Duration::from_millis(500) {
            return Err(ConfigError::Invalid(
                "heartbeat_timeout must be at least 500ms".into(),
            ));
        }
        for (i, n) in self.notifiers.iter().enumerate() {
            let id = n.id.as_deref().unwrap_or_default();
            if !is_plain_name(id) {
                return Err(ConfigError::Invalid(format!(
                    "notifiers[{i}] needs an id of {PLAIN_NAME_RULE}"
                )));
            }
            n.clone()
                .into_notifier()
                .map_err(|e| ConfigError::Invalid(format!("notifiers[{i}] ({id}): {e}")))?;
        }
        for (i, m) in self.monitors.iter().enumerate() {
            m.to_monitor()
                .map_err(|e| ConfigError::Invalid(format!("monitors[{i}] ({}): {e}", m.id)))?;
        }
        for (i, w) in self.maintenance.iter().enumerate() {
            w.to_maintenance()
                .map_err(|e| ConfigError::Invalid(format!("maintenance[{i}] ({}): {e}", w.id)))?;
        }
        let mut slugs = std::collections::HashSet::new();
        for (i, p) in self.status_pages.iter().enumerate() {
            p.to_page()
                .map_err(|e| ConfigError::Invalid(format!("status_pages[{i}] ({}): {e}", p.id)))?;
            if !slugs.insert(p.spec.slug.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "status_pages[{i}] ({}): another page has the slug {:?}",
                    p.id, p.spec.slug
                )));
            }
        }
        for (i, u) in self.public_urls.iter().enumerate() {
            crate::domain::web::parse_public_url(u)
                .map_err(|e| ConfigError::Invalid(format!("public_urls[{i}]: {e}")))?;
        }
        if !(Duration::from_secs(1)..=Duration::from_secs(300)).contains(&self.http_header_timeout)
        {
            return Err(ConfigError::Invalid(
                "http_header_timeout must be 1s-5m".into(),
            ));
        }
        if !(1..=1_000_000).contains(&self.http_max_connections) {
            return Err(ConfigError::Invalid(
                "http_max_connections must be 1-1000000".into(),
            ));
        }
        self.finish_cluster_security()?;
        self.finish_auth()?;
        Ok(self)
    }

    /// Reads the admin token file, checks the token, and refuses auth off on an address
    /// others can reach unless that was asked for explicitly.
    fn finish_auth(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = self.admin_token_file.take() {
            if self.admin_token.is_some() {
                return Err(ConfigError::Invalid(
                    "set admin_token or admin_token_file, not both".into(),
                ));
            }
            let text = read(&path)?;
            self.admin_token = Some(Secret::new(text.trim()));
        }
        if let Some(token) = &self.admin_token {
            validate_admin_token(token).map_err(ConfigError::Invalid)?;
        }
        if self.auth == AuthMode::Off && !self.http.ip().is_loopback() && !self.allow_auth_off {
            return Err(ConfigError::Invalid(format!(
                "the HTTP address {} is not loopback and auth is off: anyone who reaches it \
                 could change every monitor. Set auth = \"on\" (--auth on) with an admin \
                 token (admin_token, admin_token_file or RINGWATCH_ADMIN_TOKEN), or pass \
                 --allow-auth-off to run without authentication anyway",
                self.http
            )));
        }
        Ok(())
    }

    /// The data directory (set by [`Config::finish`]).
    pub fn data_dir(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| Path::new("data").join(&self.name))
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_is_a_plain_name() {
        for bad in ["eu west", "", "a/b", "\u{1b}[31m"] {
            let c = Config {
                zone: bad.into(),
                ..Config::default()
            };
            let err = c.finish().unwrap_err().to_string();
            assert!(
                err.contains("zone") && err.contains("letters, digits"),
                "{err}"
            );
        }
        let c = Config {
            zone: "eu-west.1".into(),
            ..Config::default()
        };
        assert_eq!(c.finish().unwrap().zone, "eu-west.1");
    }

    #[test]
    fn the_readme_names_the_default_addresses() {
        let readme = include_str!("../../../README.md");
        let c = Config::default();
        assert!(
            readme.contains(&format!("http://{}/", c.http)),
            "{}",
            c.http
        );
        assert!(readme.contains(&format!("./data/node-{}", c.cluster.port())));
    }

    #[test]
    fn shipped_cluster_toml_parses() {
        let c = Config::from_toml(include_str!("../../../cluster.toml"), "cluster.toml")
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(c.name, "n1");
        assert_eq!(c.zone, DEFAULT_ZONE);
        assert_eq!(c.retention, Duration::from_secs(48 * 3600));
        assert!(c.second_opinion);
        // The commented notifier examples are valid when uncommented.
        let examples: String = include_str!("../../../cluster.toml")
            .lines()
            .skip_while(|l| !l.starts_with("# [[notifiers]]"))
            .map(|l| match l.strip_prefix("# ") {
                Some(code) if code.starts_with("[[") || code.contains(" = ") => code,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = Config::from_toml(&examples, "examples")
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(c.notifiers.len(), 2);
        assert_eq!(c.notifiers[1].kind, "email");
        assert_eq!(c.monitors.len(), 1);
        let shop = c.monitors[0].to_monitor().unwrap();
        assert_eq!((shop.id.as_str(), shop.tls_min_days), ("shop", Some(14)));
        let windows: Vec<_> = c
            .maintenance
            .iter()
            .map(|w| w.to_maintenance().unwrap())
            .collect();
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[0].id, "sunday-backup");
        let page = c.status_pages[0].to_page().unwrap();
        assert_eq!((page.slug.as_str(), page.public), ("shop", true));
        assert_eq!(page.groups[0].monitors, ["shop"]);
    }

    #[test]
    fn refuses_bad_maintenance_windows() {
        let bad = "[[maintenance]]\nid = \"w\"\ntitle = \"x\"\nmonitors = \"all\"\n\
                   cron = \"0 3 * * SUN\"\nduration_secs = 60\ntimezone = \"Europe/Nowhere\"\n";
        let err = Config::from_toml(bad, "f").unwrap().finish().unwrap_err();
        assert!(
            err.to_string()
                .contains("maintenance[0] (w): unknown time zone"),
            "{err}"
        );
        let misspelt =
            "[[maintenance]]\nid = \"w\"\ntitle = \"x\"\nmonitors = \"all\"\nstart = 1\n";
        let err = Config::from_toml(misspelt, "f").unwrap_err().to_string();
        assert!(err.contains("\"w\"") && err.contains("start"), "{err}");
    }

    #[test]
    fn refuses_bad_and_duplicate_status_pages() {
        let page = |id: &str, slug: &str| {
            format!("[[status_pages]]\nid = \"{id}\"\nslug = \"{slug}\"\ntitle = \"T\"\n")
        };
        let bad = page("a", "Not A Slug");
        let err = Config::from_toml(&bad, "f").unwrap().finish().unwrap_err();
        assert!(err.to_string().contains("status_pages[0] (a)"), "{err}");
        let twice = format!("{}{}", page("a", "same"), page("b", "same"));
        let err = Config::from_toml(&twice, "f")
            .unwrap()
            .finish()
            .unwrap_err();
        assert!(err.to_string().contains("slug \"same\""), "{err}");
        let unknown = format!("{}colour = \"red\"\n", page("a", "ok"));
        let err = Config::from_toml(&unknown, "f").unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn refuses_bad_monitors() {
        let bad = "[[monitors]]\nid = \"a\"\nurl = \"ftp://x/\"\n";
        let err = Config::from_toml(bad, "f").unwrap().finish().unwrap_err();
        assert!(err.to_string().contains("monitors[0] (a)"), "{err}");
        let unknown = "[[monitors]]\nid = \"a\"\nurl = \"http://x/\"\nintervall = 3\n";
        // A misspelt key is refused as the file is read, naming the monitor and the key.
        let err = Config::from_toml(unknown, "f").unwrap_err();
        let err = err.to_string();
        assert!(
            err.contains("monitor \"a\"") && err.contains("intervall"),
            "{err}"
        );
    }

    #[test]
    fn refuses_bad_notifiers() {
        let no_id = "[[notifiers]]\ntype = \"webhook\"\nurl = \"http://x/\"\n";
        let err = Config::from_toml(no_id, "f").unwrap().finish().unwrap_err();
        assert!(err.to_string().contains("needs an id"), "{err}");
        let bad = "[[notifiers]]\nid = \"a\"\ntype = \"webhook\"\nurl = \"ftp://x/\"\n";
        let err = Config::from_toml(bad, "f").unwrap().finish().unwrap_err();
        assert!(err.to_string().contains("notifiers[0] (a)"), "{err}");
    }

    #[test]
    fn defaults_then_file_then_flags() {
        let c = Config::load(&Overrides::default()).unwrap();
        assert_eq!(c.http, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(c.name, "node-7800");
        assert_eq!(c.data_dir(), Path::new("data/node-7800"));

        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "name = \"a\"\nhttp = \"127.0.0.1:9000\"\n").unwrap();
        let o = Overrides {
            config: Some(file),
            name: Some("b".into()),
            ..Default::default()
        };
        let c = Config::load(&o).unwrap();
        assert_eq!((c.name.as_str(), c.http.port()), ("b", 9000));
    }

    #[test]
    fn refuses_bad_files_and_values() {
        assert!(Config::from_toml("nmae = \"x\"", "f").is_err());
        assert!(Config::from_toml("http = 5", "f").is_err());
        let bad = Config {
            name: "a b".into(),
            ..Config::default()
        };
        assert!(bad.finish().is_err());
        let o = Overrides {
            config: Some("/nonexistent/ringwatch.toml".into()),
            ..Default::default()
        };
        assert!(matches!(Config::load(&o), Err(ConfigError::Read { .. })));
    }

    #[test]
    fn auth_off_is_refused_where_others_can_reach_the_node() {
        let open = |auth, allow_auth_off| Config {
            http: "0.0.0.0:8080".parse().unwrap(),
            auth,
            allow_auth_off,
            ..Config::default()
        };
        let err = open(AuthMode::Off, false).finish().unwrap_err().to_string();
        assert!(
            err.contains("not loopback") && err.contains("--allow-auth-off"),
            "{err}"
        );
        assert!(open(AuthMode::Off, true).finish().is_ok());
        assert!(open(AuthMode::On, false).finish().is_ok());
        let local = Config::default().finish().unwrap();
        assert_eq!(
            local.auth,
            AuthMode::Off,
            "loopback keeps working as before"
        );
    }

    #[test]
    fn the_admin_token_comes_from_the_file_or_the_config() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("admin");
        let token = "0123456789abcdef0123456789";
        std::fs::write(&file, format!("{token}\n")).unwrap();
        let toml = format!("auth = \"on\"\nadmin_token_file = {:?}\n", file.display());
        let c = Config::from_toml(&toml, "f").unwrap().finish().unwrap();
        assert_eq!(c.auth, AuthMode::On);
        assert_eq!(c.admin_token, Some(Secret::new(token)));
        assert!(!format!("{c:?}").contains(token), "Debug shows the token");

        let both = format!("{toml}admin_token = \"{token}\"\n");
        let err = Config::from_toml(&both, "f").unwrap().finish().unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let short = Config::from_toml("admin_token = \"short\"", "f").unwrap();
        assert!(
            short
                .finish()
                .unwrap_err()
                .to_string()
                .contains("at least 20")
        );
        let missing = Config::from_toml("admin_token_file = \"/nonexistent/t\"", "f").unwrap();
        assert!(matches!(missing.finish(), Err(ConfigError::Read { .. })));
    }
}
