//! The client subcommands (`add`, `ls`, `rm`, `cluster`) against a running node.

use ringwatch_tests::{NodeProc, Target, TestDir, run_ringwatch};
use std::time::Duration;

/// A client command talks to a local node: it has no reason to take long.
const CLI_TIMEOUT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_ls_rm_and_cluster_work_against_a_node() {
    let target = Target::start().await;
    let node = NodeProc::start("solo").await;
    let api = node.api();
    let cwd = TestDir::new();
    let url = node.http_url();
    let cli = async |args: &[&str]| {
        let mut full = args.to_vec();
        full.extend(["--node", url.as_str()]);
        run_ringwatch(&full, cwd.path(), CLI_TIMEOUT).await
    };

    let plain_url = target.url("/cli-plain");
    let added = cli(&["add", &plain_url, "--interval", "1s"]).await;
    added.assert_success("ringwatch add");
    let monitors = api.list_monitors().await;
    let plain = monitors
        .iter()
        .find(|m| m.url == plain_url)
        .unwrap_or_else(|| panic!("`add` created no monitor for {plain_url}: {monitors:?}"));
    assert_eq!(plain.interval_secs, 1, "--interval 1s");
    assert!(
        added.stdout.contains(&plain.id),
        "`add` does not print the id {}: {added}",
        plain.id
    );

    let named_url = target.url("/cli-named");
    let added = cli(&[
        "add",
        &named_url,
        "--interval",
        "90s",
        "--timeout",
        "2s",
        "--name",
        "web",
    ])
    .await;
    added.assert_success("ringwatch add --timeout --name");
    let named = api
        .list_monitors()
        .await
        .into_iter()
        .find(|m| m.url == named_url)
        .unwrap_or_else(|| panic!("`add` created no monitor for {named_url}"));
    assert_eq!(named.name, "web", "--name web");
    assert_eq!(named.timeout_ms, 2000, "--timeout 2s");
    assert_eq!(named.interval_secs, 90, "--interval 90s");
    assert!(added.stdout.contains(&named.id), "{added}");

    let listed = cli(&["ls"]).await;
    listed.assert_success("ringwatch ls");
    for id in [&plain.id, &named.id] {
        assert!(
            listed.stdout.contains(id.as_str()),
            "`ls` lacks {id}: {listed}"
        );
    }
    let named_row = listed
        .stdout
        .lines()
        .find(|l| l.starts_with(named.id.as_str()))
        .unwrap_or_else(|| panic!("no row for {}: {listed}", named.id));
    assert!(
        named_row.split_whitespace().nth(1) == Some("web"),
        "`ls` does not show the name in the column after the id: {listed}"
    );

    cli(&["rm", &plain.id]).await.assert_success("ringwatch rm");
    assert_eq!(api.monitor_ids().await, vec![named.id.clone()]);
    let listed = cli(&["ls"]).await;
    listed.assert_success("ringwatch ls after rm");
    assert!(
        !listed.stdout.contains(plain.id.as_str()),
        "`ls` still shows the removed {}: {listed}",
        plain.id
    );

    // `rm` takes a name too; a name no monitor has is refused and deletes nothing.
    let unknown = cli(&["rm", "no-such-monitor"]).await;
    assert!(
        !unknown.status.success(),
        "rm of an unknown name: {unknown}"
    );
    assert!(unknown.stderr.contains("no-such-monitor"), "{unknown}");
    cli(&["rm", "web"])
        .await
        .assert_success("ringwatch rm NAME");
    assert!(
        api.monitor_ids().await.is_empty(),
        "rm web left the monitor"
    );

    let cluster = cli(&["cluster"]).await;
    cluster.assert_success("ringwatch cluster");
    assert!(
        !cluster.stdout.trim().is_empty(),
        "`cluster` printed nothing: {cluster}"
    );
}
