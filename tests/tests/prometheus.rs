//! `/metrics` for Prometheus (issue 16): the exposition read strictly in both formats and by
//! promtool, the per-monitor series and their values, the auth switches, the shipped rules and
//! Grafana dashboard against a real scrape, and a real Prometheus scraping two nodes through a
//! kill -9.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::Method;
use ringwatch_tests::exposition::{self, Exposition, Format};
use ringwatch_tests::prometheus::{Prometheus, promtool, tool};
use ringwatch_tests::{Api, Behavior, Cluster, Target, TlsTarget, now_ms, secs, wait_for};
use serde_json::{Value, json};

const ADMIN: &str = "admin-bootstrap-metrics-0123456789";
/// What Prometheus 2.x sends.
const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,\
    application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
const CLASSIC: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// A monitor name a label value must carry whole: quotes, a backslash, non-ASCII.
const HOSTILE_NAME: &str = "shop \"eu\" \\ caf\u{e9}";
const SETTLE: Duration = Duration::from_secs(30);

fn repo_file(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn one(exp: &Exposition, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let hits: Vec<f64> = exp
        .samples(name)
        .into_iter()
        .filter(|s| labels.iter().all(|(k, v)| s.label(k) == Some(v)))
        .map(|s| s.value)
        .collect();
    assert!(hits.len() <= 1, "{name}{labels:?}: {} series", hits.len());
    hits.first().copied()
}

async fn scrape(api: &Api, format: Format) -> Exposition {
    let accept = match format {
        Format::Classic => "*/*",
        Format::OpenMetrics => PROMETHEUS_ACCEPT,
    };
    let resp = api
        .send_with(Method::GET, "/metrics", &[("accept", accept)])
        .await;
    resp.expect_status(200);
    let expected = match format {
        Format::Classic => CLASSIC,
        Format::OpenMetrics => OPENMETRICS,
    };
    assert_eq!(resp.header("content-type").as_deref(), Some(expected));
    exposition::parse(&resp.text(), format)
        .unwrap_or_else(|e| panic!("{format:?} scrape: {e}\n{}", resp.text()))
}

/// Every `ringwatch_*` name in `text`.
fn names_in(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("ringwatch_") {
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// The names a query may use: each family's sample names, also for families without samples.
fn queryable(exp: &Exposition) -> BTreeSet<String> {
    let mut names = exp.sample_names();
    for (name, family) in &exp.families {
        names.insert(name.clone());
        if family.kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{name}{suffix}"));
            }
        }
    }
    names
}

/// Every panel's queries, rows' panels included.
fn panel_queries(panels: &[Value], out: &mut Vec<(String, Vec<String>)>) {
    for panel in panels {
        let title = panel["title"].as_str().unwrap_or("?").to_owned();
        if let Some(inner) = panel["panels"].as_array() {
            panel_queries(inner, out);
        }
        if panel["type"] == "row" {
            continue;
        }
        let exprs = panel["targets"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|t| t["expr"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        out.push((title, exprs));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_reads_strictly_in_both_formats_promtool_finds_nothing_and_the_shipped_files_name_real_series()
 {
    let target = Target::start().await;
    target.set("/fail", Behavior::Status(500));
    let tls = TlsTarget::expiring_in_days(30).await;
    let (cluster, _files) = Cluster::start_with_admin(1, &["--zone", "eu"], ADMIN).await;
    let admin = cluster.api("n1");
    let create = async |body: Value| admin.create_monitor(&body).await.id;
    let ok =
        create(json!({"name": HOSTILE_NAME, "url": target.url("/ok"), "interval_secs": 1})).await;
    let fail =
        create(json!({"name": "failing", "url": target.url("/fail"), "interval_secs": 1})).await;
    let https = create(
        json!({"name": "tls", "url": tls.url("/"), "interval_secs": 1,
        "tls_skip_verify": true}),
    )
    .await;
    let paused = create(json!({"name": "paused", "url": target.url("/ok"), "active": false})).await;
    let zoned = create(
        json!({"name": "zoned", "url": target.url("/ok"), "interval_secs": 1,
        "zones": ["eu"]}),
    )
    .await;
    // Named by its URL, with a password and a secret header: neither may show.
    let unnamed_url = target
        .url("/ok")
        .replacen("http://", "http://watcher:pw-in-url-4242@", 1);
    let unnamed = create(json!({"url": unnamed_url, "interval_secs": 1,
        "headers": {"X-Tenant": "tenant-secret-7777"}, "secret_headers": ["X-Tenant"]}))
    .await;
    for (id, status) in [
        (&ok, "up"),
        (&fail, "down"),
        (&https, "up"),
        (&zoned, "up"),
        (&unnamed, "up"),
    ] {
        admin.wait_status(id, status, SETTLE).await;
    }

    // Read scope, and nothing less.
    let made = admin
        .post_json(
            "/api/tokens",
            &json!({"name": "prometheus", "scope": "read"}),
        )
        .await;
    made.expect_status(201);
    let secret = made.json::<Value>()["token_secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let anonymous = cluster.anonymous_api("n1");
    anonymous.get("/metrics").await.expect_status(401);
    let reader = anonymous.with_token(&secret);

    // Figures (uptime) come from a background refresh: wait for them, then read both formats.
    let classic = wait_for("the uptime series", Duration::from_secs(90), async || {
        let exp = scrape(&reader, Format::Classic).await;
        let window = [("id", ok.as_str()), ("window", "24h")];
        match one(&exp, "ringwatch_monitor_uptime_ratio", &window) {
            Some(_) => Ok(exp),
            None => Err("no uptime yet".to_owned()),
        }
    })
    .await;
    let open = scrape(&reader, Format::OpenMetrics).await;
    assert_eq!(classic.sample_names(), open.sample_names());
    for (name, family) in &open.families {
        let classic_name = match family.kind.as_str() {
            "counter" => format!("{name}_total"),
            _ => name.clone(),
        };
        assert_eq!(classic.families[&classic_name].help, family.help, "{name}");
    }

    // Gzip when asked (Prometheus asks): the same exposition, far fewer bytes.
    let packed = reader
        .send_with(
            Method::GET,
            "/metrics",
            &[("accept", PROMETHEUS_ACCEPT), ("accept-encoding", "gzip")],
        )
        .await;
    packed.expect_status(200);
    assert_eq!(packed.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(
        packed.header("vary").as_deref(),
        Some("accept, accept-encoding")
    );
    let mut unpacked = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&packed.body[..]),
        &mut unpacked,
    )
    .expect("a gzip body");
    let read = exposition::parse(&unpacked, Format::OpenMetrics).expect("a clean scrape");
    assert_eq!(read.sample_names(), open.sample_names());
    assert!(
        packed.body.len() * 3 < unpacked.len(),
        "{} of {}",
        packed.body.len(),
        unpacked.len()
    );

    // HEAD: the headers of GET, no body.
    let head = reader
        .send_with(Method::HEAD, "/metrics", &[("accept", PROMETHEUS_ACCEPT)])
        .await;
    head.expect_status(200);
    assert_eq!(head.header("content-type").as_deref(), Some(OPENMETRICS));
    assert!(head.body.is_empty());

    // The values.
    let up = |id: &str| one(&classic, "ringwatch_monitor_up", &[("id", id)]);
    assert_eq!(
        [up(&ok), up(&fail), up(&https), up(&paused), up(&zoned)],
        [Some(1.0), Some(0.0), Some(1.0), None, Some(1.0)]
    );
    let name_of = classic.samples("ringwatch_monitor_up");
    let named = name_of.iter().find(|s| s.label("id") == Some(ok.as_str()));
    assert_eq!(named.and_then(|s| s.label("name")), Some(HOSTILE_NAME));
    for (id, state) in [
        (&ok, "up"),
        (&fail, "down"),
        (&https, "up"),
        (&paused, "paused"),
    ] {
        let states: BTreeMap<&str, f64> = classic
            .samples("ringwatch_monitor_status")
            .into_iter()
            .filter(|s| s.label("id") == Some(id.as_str()))
            .map(|s| (s.label("state").unwrap(), s.value))
            .collect();
        let mut expected: BTreeMap<&str, f64> = ["up", "down", "pending", "paused", "maintenance"]
            .into_iter()
            .map(|s| (s, 0.0))
            .collect();
        expected.insert(state, 1.0);
        assert_eq!(states, expected, "{id}");
    }
    fn at(id: &str) -> [(&str, &str); 2] {
        [("id", id), ("zone", "eu")]
    }
    assert_eq!(
        one(&classic, "ringwatch_monitor_http_status_code", &at(&ok)),
        Some(200.0)
    );
    assert_eq!(
        one(&classic, "ringwatch_monitor_http_status_code", &at(&fail)),
        Some(500.0)
    );
    let left = one(
        &classic,
        "ringwatch_monitor_tls_cert_remaining_seconds",
        &at(&https),
    );
    assert!(
        left.is_some_and(|s| (29.0..=30.0).contains(&(s / 86_400.0))),
        "{left:?}"
    );
    assert_eq!(
        one(
            &classic,
            "ringwatch_monitor_tls_cert_remaining_seconds",
            &at(&ok)
        ),
        None
    );
    for id in [&ok, &fail, &https] {
        let latency = one(&classic, "ringwatch_monitor_latency_seconds", &at(id));
        assert!(
            latency.is_some_and(|l| (0.0..5.0).contains(&l)),
            "{latency:?}"
        );
        let last = one(
            &classic,
            "ringwatch_monitor_last_check_timestamp_seconds",
            &at(id),
        );
        let age = now_ms() as f64 / 1000.0 - last.unwrap_or(0.0);
        assert!((0.0..30.0).contains(&age), "last check {age} s ago");
    }
    let checks = |id: &str, outcome: &str| {
        let labels = [("id", id), ("zone", "eu"), ("outcome", outcome)];
        one(&classic, "ringwatch_monitor_checks_total", &labels).unwrap_or(0.0)
    };
    assert!(checks(&ok, "ok") >= 1.0 && checks(&fail, "bad_status") >= 1.0);
    assert_eq!((checks(&ok, "bad_status"), checks(&fail, "ok")), (0.0, 0.0));
    assert_eq!(
        one(&classic, "ringwatch_monitor_zone_up", &at(&zoned)),
        Some(1.0)
    );
    let uptime = one(
        &classic,
        "ringwatch_monitor_uptime_ratio",
        &[("id", &ok), ("window", "24h")],
    );
    assert!(
        uptime.is_some_and(|u| (0.0..=1.0).contains(&u)),
        "{uptime:?}"
    );
    assert_eq!(one(&classic, "ringwatch_monitors_exposed", &[]), Some(6.0));
    assert_eq!(
        one(
            &classic,
            "ringwatch_node_info",
            &[("node", "n1"), ("zone", "eu")]
        ),
        Some(1.0)
    );
    assert_eq!(
        one(&classic, "ringwatch_cluster_members", &[("state", "alive")]),
        Some(1.0)
    );
    assert_eq!(
        one(&classic, "ringwatch_monitors", &[("status", "up")]),
        Some(4.0)
    );
    // No URL (but as the name of a monitor without one), secret or error text shows.
    let text = reader.get("/metrics").await.text();
    for secret in [
        "pw-in-url-4242",
        "tenant-secret-7777",
        "/fail",
        "Internal Server Error",
    ] {
        assert!(!text.contains(secret), "{secret} in the scrape:\n{text}");
    }
    let unnamed_label = classic
        .samples("ringwatch_monitor_up")
        .into_iter()
        .find(|s| s.label("id") == Some(unnamed.as_str()))
        .and_then(|s| s.label("name").map(str::to_owned));
    assert!(
        unnamed_label
            .as_ref()
            .is_some_and(|n| n.contains("watcher:***@")),
        "{unnamed_label:?}"
    );

    // The shipped rules and dashboard name only series a node exposes.
    let known = queryable(&classic);
    let rules = std::fs::read_to_string(repo_file("docs/prometheus/ringwatch-rules.yml")).unwrap();
    let dashboard_text =
        std::fs::read_to_string(repo_file("docs/prometheus/grafana-dashboard.json")).unwrap();
    for (file, text) in [("rules", &rules), ("dashboard", &dashboard_text)] {
        let unknown: Vec<String> = names_in(text)
            .into_iter()
            .filter(|n| !known.contains(n))
            .collect();
        assert!(
            unknown.is_empty(),
            "the {file} name series no node exposes: {unknown:?}"
        );
    }
    let dashboard: Value = serde_json::from_str(&dashboard_text).expect("the dashboard is JSON");
    let mut queries = Vec::new();
    panel_queries(
        dashboard["panels"].as_array().expect("panels"),
        &mut queries,
    );
    assert!(queries.len() >= 6, "{queries:?}");
    for (title, exprs) in &queries {
        if exprs.is_empty() {
            continue; // text panels
        }
        for expr in exprs {
            let names = names_in(expr);
            assert!(
                !names.is_empty() || expr.contains("up{"),
                "panel {title:?}: {expr} names no series"
            );
        }
    }
    let with_queries = queries.iter().filter(|(_, e)| !e.is_empty()).count();
    println!(
        "{} panels, {with_queries} with queries, {} series names known",
        queries.len(),
        known.len()
    );

    // promtool: the scrape lints clean, the rules load and their unit tests pass.
    let Some(promtool_bin) = tool("promtool") else {
        return;
    };
    let text = reader.get("/metrics").await.text();
    let lint = promtool(&promtool_bin, &["check", "metrics"], &text).await;
    assert!(
        lint.success && lint.output.is_empty(),
        "promtool check metrics:\n{}",
        lint.output
    );
    let rules_path = repo_file("docs/prometheus/ringwatch-rules.yml");
    let check = promtool(
        &promtool_bin,
        &["check", "rules", rules_path.to_str().unwrap()],
        "",
    )
    .await;
    assert!(
        check.success && check.output.contains("SUCCESS"),
        "{}",
        check.output
    );
    let tests_path = repo_file("docs/prometheus/ringwatch-rules.test.yml");
    let test = promtool(
        &promtool_bin,
        &["test", "rules", tests_path.to_str().unwrap()],
        "",
    )
    .await;
    assert!(test.success, "promtool test rules:\n{}", test.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_public_serves_metrics_without_a_token_and_per_monitor_off_leaves_the_node_series()
{
    let args = ["--metrics-public", "--metrics-per-monitor", "false"];
    let (cluster, _files) = Cluster::start_with_admin(1, &args, ADMIN).await;
    let target = Target::start().await;
    let admin = cluster.api("n1");
    let id = admin
        .create_monitor(&json!({"url": target.url("/ok"), "interval_secs": 1}))
        .await
        .id;
    admin.wait_status(&id, "up", SETTLE).await;
    let anonymous = cluster.anonymous_api("n1");
    let exp = scrape(&anonymous, Format::Classic).await;
    assert_eq!(
        one(&exp, "ringwatch_monitors", &[("status", "up")]),
        Some(1.0)
    );
    assert_eq!(one(&exp, "ringwatch_monitors_exposed", &[]), Some(0.0));
    let per_monitor: Vec<&String> = exp
        .families
        .keys()
        .filter(|n| n.starts_with("ringwatch_monitor_"))
        .collect();
    assert!(per_monitor.is_empty(), "{per_monitor:?}");
    // Only /metrics is public.
    anonymous.get("/api/monitors").await.expect_status(401);
    anonymous
        .send_with(Method::HEAD, "/metrics", &[])
        .await
        .expect_status(200);
}

/// Every raw sample of `ringwatch_monitor_up` in Prometheus, by monitor: (time, instance,
/// value), in time order.
type Samples = BTreeMap<String, Vec<(f64, String, f64)>>;

async fn up_samples(prometheus: &mut Prometheus, range_secs: u64) -> Samples {
    let mut by_id: Samples = BTreeMap::new();
    for series in prometheus
        .query(&format!("ringwatch_monitor_up[{range_secs}s]"))
        .await
    {
        let samples = by_id.entry(series.label("id").to_owned()).or_default();
        for (t, v) in &series.samples {
            samples.push((*t, series.label("instance").to_owned(), *v));
        }
    }
    for samples in by_id.values_mut() {
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    by_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scraping_two_nodes_sees_one_up_series_per_monitor_through_a_kill_9() {
    let Some(prometheus_bin) = tool("prometheus") else {
        return;
    };
    const SCRAPE: Duration = Duration::from_secs(1);
    let target = Target::start().await;
    target.set("/fail1", Behavior::Status(500));
    target.set("/fail2", Behavior::Status(503));
    let tls = TlsTarget::expiring_in_days(30).await;
    let mut cluster = Cluster::start_with(2, &["--heartbeat-timeout", "3s"]).await;
    let n1 = cluster.api("n1");
    let mut expected: BTreeMap<String, f64> = BTreeMap::new();
    for (path, up) in [
        ("/ok1", 1.0),
        ("/ok2", 1.0),
        ("/fail1", 0.0),
        ("/fail2", 0.0),
    ] {
        let id = n1
            .create_monitor(&json!({"url": target.url(path), "interval_secs": 1}))
            .await
            .id;
        expected.insert(id, up);
    }
    let https = n1
        .create_monitor(&json!({"url": tls.url("/"), "interval_secs": 1, "tls_skip_verify": true}))
        .await
        .id;
    expected.insert(https.clone(), 1.0);
    for node in ["n1", "n2"] {
        for (id, up) in &expected {
            let status = if *up == 1.0 { "up" } else { "down" };
            cluster.api(node).wait_status(id, status, SETTLE).await;
        }
    }

    let addrs = [
        cluster.node("n1").http_addr(),
        cluster.node("n2").http_addr(),
    ];
    let started = Instant::now();
    let mut prometheus = Prometheus::start(&prometheus_bin, &addrs, SCRAPE).await;
    wait_for("5 monitor series in Prometheus", secs(30), async || {
        let n = prometheus.query("ringwatch_monitor_up").await.len();
        if n == 5 {
            Ok(())
        } else {
            Err(format!("{n} series"))
        }
    })
    .await;
    let latency = prometheus.query("ringwatch_monitor_latency_seconds").await;
    assert_eq!(latency.len(), 5, "{latency:?}");
    let days = prometheus
        .query("ringwatch_monitor_tls_cert_remaining_seconds / 86400")
        .await;
    assert_eq!(days.len(), 1, "{days:?}");
    assert_eq!(days[0].label("id"), https);
    assert!((29.0..=30.0).contains(&days[0].samples[0].1), "{days:?}");

    // Some scrapes of the settled cluster, then kill -9 of the node that tells more monitors.
    let exposed = prometheus.query("ringwatch_monitors_exposed").await;
    let instance_of = |node: &str| cluster.node(node).http_addr().to_string();
    let count_of = |node: &str| {
        exposed
            .iter()
            .find(|s| s.label("instance") == instance_of(node))
            .map_or(0.0, |s| s.samples[0].1)
    };
    assert_eq!(count_of("n1") + count_of("n2"), 5.0, "{exposed:?}");
    let (victim, survivor) = if count_of("n1") >= count_of("n2") {
        ("n1", "n2")
    } else {
        ("n2", "n1")
    };
    let moved = count_of(victim);
    let (victim_instance, survivor_instance) = (instance_of(victim), instance_of(survivor));
    wait_for("5 scrapes of both nodes", secs(30), async || {
        let n = prometheus
            .query("count_over_time(ringwatch_monitors_exposed[1m])")
            .await;
        if n.len() == 2 && n.iter().all(|s| s.samples[0].1 >= 5.0) {
            Ok(())
        } else {
            Err(format!("{n:?}"))
        }
    })
    .await;
    let alive = prometheus
        .query("ringwatch_cluster_members{state=\"alive\"}")
        .await;
    assert!(
        alive.len() == 2 && alive.iter().all(|s| s.samples[0].1 == 2.0),
        "{alive:?}"
    );
    cluster.kill(victim).await;
    let killed_at = now_ms() as f64 / 1000.0;
    let query = format!("count(ringwatch_monitor_up{{instance=\"{survivor_instance}\"}})");
    let took = wait_for("the survivor to tell every monitor", secs(30), async || {
        let n = prometheus.query(&query).await;
        match n.first().map(|s| s.samples[0].1) {
            Some(5.0) => Ok(now_ms() as f64 / 1000.0 - killed_at),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    println!(
        "{moved} monitors moved from {victim}; the survivor told all 5 {took:.1} s after the kill"
    );
    // The survivor counts itself alive and the victim dead.
    for (state, n) in [("alive", 1.0), ("dead", 1.0)] {
        let q = format!(
            "ringwatch_cluster_members{{instance=\"{survivor_instance}\", state=\"{state}\"}}"
        );
        wait_for(&q, secs(10), async || {
            let got = prometheus.query(&q).await;
            match got.first().map(|s| s.samples[0].1) {
                Some(v) if v == n => Ok(()),
                other => Err(format!("{other:?}")),
            }
        })
        .await;
    }
    // Five more scrapes after the failover.
    wait_for("5 scrapes after the failover", secs(30), async || {
        let q = format!(
            "count_over_time(ringwatch_monitors_exposed{{instance=\"{survivor_instance}\"}}[{}s])",
            ((now_ms() as f64 / 1000.0 - killed_at - took).ceil() as u64).max(1)
        );
        let n = prometheus.query(&q).await;
        match n.first().map(|s| s.samples[0].1) {
            Some(k) if k >= 5.0 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    // Every sample Prometheus holds: the right value; one instance at a time per monitor;
    // no gap longer than two scrapes except across the failover.
    let range = started.elapsed().as_secs() + 5;
    let samples = up_samples(&mut prometheus, range).await;
    assert_eq!(
        samples.keys().collect::<BTreeSet<_>>(),
        expected.keys().collect()
    );
    // A kill -9 closes the victim's sessions, so the survivor takes its monitors over at once
    // (the heartbeat timeout is for a silent peer); its next scrapes then carry them.
    let slack = 0.5;
    let failover_bound = 2.0 * SCRAPE.as_secs_f64() + 1.0;
    let mut worst_gap: f64 = 0.0;
    let mut worst_takeover: f64 = 0.0;
    for (id, series) in &samples {
        let want = expected[id];
        assert!(
            series.iter().all(|(_, _, v)| *v == want),
            "{id}: a sample other than {want}: {series:?}"
        );
        let instances: Vec<&str> = series.iter().map(|(_, i, _)| i.as_str()).collect();
        let switches = instances.windows(2).filter(|w| w[0] != w[1]).count();
        let ends_on_survivor = instances.last() == Some(&survivor_instance.as_str());
        assert!(
            ends_on_survivor && switches <= 1,
            "{id}: told by {instances:?} (one node at a time, the survivor last)"
        );
        if switches == 1 {
            assert_eq!(instances[0], victim_instance, "{id}");
            let first = series
                .iter()
                .find(|(_, i, _)| *i == survivor_instance)
                .map_or(f64::INFINITY, |s| s.0);
            let takeover = first - killed_at;
            assert!(
                takeover <= failover_bound,
                "{id}: first told by the survivor {takeover:.1} s after the kill"
            );
            worst_takeover = worst_takeover.max(takeover);
        }
        for pair in series.windows(2) {
            let gap = pair[1].0 - pair[0].0;
            let failover = pair[0].1 != pair[1].1;
            let bound = if failover {
                failover_bound + SCRAPE.as_secs_f64()
            } else {
                2.0 * SCRAPE.as_secs_f64() + slack
            };
            assert!(gap <= bound, "{id}: {gap:.1} s between samples {pair:?}");
            if failover {
                worst_gap = worst_gap.max(gap);
            }
        }
    }
    println!(
        "samples per monitor: {:?}; longest failover gap {worst_gap:.1} s; the survivor's \
         first sample at most {worst_takeover:.1} s after the kill",
        samples.values().map(Vec::len).collect::<Vec<_>>()
    );
    let up = prometheus
        .query(&format!("up{{instance=\"{victim_instance}\"}}"))
        .await;
    assert_eq!(up.first().map(|s| s.samples[0].1), Some(0.0), "{up:?}");
}

/// Scrapes of one node holding `RINGWATCH_BENCH_MONITORS` (default 10,000) monitors, each up
/// and checked every 30 s against a local target: time per scrape in both formats, bytes,
/// series and bytes per monitor, and the node's memory. Prints a markdown table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: scripts/bench-metrics"]
async fn bench_scrapes_of_10000_monitors() {
    const SCRAPES: usize = 20;
    let n: usize = std::env::var("RINGWATCH_BENCH_MONITORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let target = Target::start().await;
    let node = ringwatch_tests::NodeProc::start("bench").await;
    let api = node.api();
    let created = Instant::now();
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (api, url) = (api.clone(), target.url("/ok"));
            tokio::spawn(async move {
                for i in (w..n).step_by(8) {
                    let body = json!({"name": format!("site {i}"), "url": format!("{url}?{i}"),
                        "interval_secs": 30});
                    api.create_monitor(&body).await;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("a creating task");
    }
    println!(
        "created {n} monitors in {:.1} s",
        created.elapsed().as_secs_f64()
    );
    wait_for("every monitor up", Duration::from_secs(180), async || {
        let exp = scrape(&api, Format::Classic).await;
        let up = one(&exp, "ringwatch_monitors", &[("status", "up")]).unwrap_or(0.0);
        let checked = exp.samples("ringwatch_monitor_latency_seconds").len();
        if up as usize == n && checked == n {
            Ok(())
        } else {
            Err(format!("{up} up, {checked} checked"))
        }
    })
    .await;
    println!(
        "| format | monitors | scrapes | p50 ms | p95 ms | max ms | bytes sent | series per \
         monitor | bytes per monitor (unpacked) |"
    );
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (format, gzip) in [
        (Format::Classic, false),
        (Format::OpenMetrics, false),
        (Format::OpenMetrics, true),
    ] {
        let accept = match format {
            Format::Classic => "*/*",
            Format::OpenMetrics => PROMETHEUS_ACCEPT,
        };
        let encoding = if gzip { "gzip" } else { "identity" };
        let mut took = Vec::with_capacity(SCRAPES);
        let (mut text, mut sent) = (String::new(), 0);
        for _ in 0..SCRAPES {
            let start = Instant::now();
            let resp = api
                .send_with(
                    Method::GET,
                    "/metrics",
                    &[("accept", accept), ("accept-encoding", encoding)],
                )
                .await;
            took.push(start.elapsed());
            resp.expect_status(200);
            sent = resp.body.len();
            text.clear();
            if gzip {
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(&resp.body[..]),
                    &mut text,
                )
                .expect("a gzip body");
            } else {
                text = resp.text();
            }
        }
        let exp = exposition::parse(&text, format).expect("a clean scrape");
        let per_monitor: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("ringwatch_monitor_"))
            .collect();
        let bytes: usize = per_monitor.iter().map(|l| l.len() + 1).sum();
        assert_eq!(exp.samples("ringwatch_monitor_up").len(), n);
        took.sort();
        let at = |q: f64| took[((took.len() - 1) as f64 * q).round() as usize];
        let ms = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1000.0);
        let name = format!("{format:?}{}", if gzip { " + gzip" } else { "" });
        println!(
            "| {name} | {n} | {SCRAPES} | {} | {} | {} | {sent} | {:.1} | {} |",
            ms(at(0.5)),
            ms(at(0.95)),
            ms(at(1.0)),
            per_monitor.len() as f64 / n as f64,
            bytes / n
        );
    }
    println!("node RSS: {} MiB", node.rss_kib() / 1024);
}
