//! The `ringwatch` binary: a thin shell over the library.

use std::process::ExitCode;

/// mimalloc: glibc malloc cost ~15% of the node's CPU under check load (many small,
/// short-lived allocations across threads).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;
use ringwatch::cli::{Cli, Command};
use ringwatch::config::{AuthMode, Config, DEFAULT_COOKIE, Overrides};
use ringwatch::node::Node;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ringwatch: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Node(overrides) => runtime.block_on(run_node(overrides)),
        cmd => match runtime.block_on(ringwatch::cli::run_client(cmd)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!(
                    "ringwatch: {}",
                    ringwatch::cli::printable(&format!("{e:#}"))
                );
                ExitCode::FAILURE
            }
        },
    }
}

/// Log filter when `RINGWATCH_LOG` is unset. warp logs every connection a client drops early
/// (an event stream closed with its page, say) at ERROR: that is the client's doing, not the
/// node's, and one client could fill the log with it. `RINGWATCH_LOG=info,warp::server=error`
/// shows them again. ractor_cluster logs every cluster connection it sees open, close or fail
/// to frame, at INFO and WARN: anyone who reaches the cluster port could fill the log with
/// them. The node logs sessions and (rate-limited) handshake failures itself;
/// `RINGWATCH_LOG=info,ractor_cluster=info` shows the library's lines again.
const DEFAULT_LOG_FILTER: &str = "info,warp::server=off,ractor_cluster=error";

fn init_tracing() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("RINGWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour codes only for a person's terminal, never into a file or a pipe.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

async fn run_node(overrides: Overrides) -> ExitCode {
    let config = match Config::load(&overrides) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ringwatch: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(files) = config.tls_files()
        && let Err(e) = ringwatch::cluster::tls::ClusterTls::load(&files)
    {
        eprintln!("ringwatch: invalid cluster TLS configuration: {e}");
        return ExitCode::from(2);
    }
    raise_open_files_limit();
    if config.cookie == DEFAULT_COOKIE {
        tracing::warn!("running with the default cluster cookie; set --cookie for a real cluster");
    }
    warn_about_auth(&config);
    let node = match Node::start(config.clone()).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("ringwatch: cannot start node {}: {e}", config.name);
            return ExitCode::FAILURE;
        }
    };
    println!(
        "listening http={} cluster={} name={}",
        node.http_addr,
        node.ctx.cluster_addr.get().unwrap_or(&config.cluster),
        config.name
    );
    tracing::info!(
        name = %config.name,
        data = %config.data_dir().display(),
        monitors = node.ctx.live.len(),
        "node started"
    );
    wait_for_signal().await;
    tracing::info!("shutting down");
    node.shutdown().await;
    tracing::info!("stopped cleanly");
    ExitCode::SUCCESS
}

/// Says what a person might not expect of the access rule in force.
fn warn_about_auth(config: &Config) {
    match config.auth {
        AuthMode::On if config.admin_token.is_none() => tracing::warn!(
            "auth is on and no admin token is configured: only API tokens this cluster already \
             holds are accepted"
        ),
        AuthMode::Off if !config.http.ip().is_loopback() => tracing::warn!(
            http = %config.http,
            "auth is off on an address others can reach (--allow-auth-off): anyone may change \
             everything"
        ),
        _ => {}
    }
}

/// Each check holds a socket: lift the soft limit on open files to the hard limit.
fn raise_open_files_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open files limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the open files limit"),
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
