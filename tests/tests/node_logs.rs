//! What a node writes to its log when nothing is wrong: plain text in a file (no terminal
//! colour codes), and no error when a dashboard page with a live event stream goes away.

use ringwatch_tests::{NodeProc, Target, monitor_body, secs};
use std::time::Duration;

/// SIGTERM: "exit 0 within 10 s".
const CLEAN_EXIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Event streams opened and dropped, as a user reloading the dashboard a few times would.
const PAGE_CLOSES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_is_plain_text_and_a_leaving_event_client_is_not_an_error() {
    let target = Target::start().await;
    let mut node = NodeProc::start("logs").await;
    let api = node.api();
    let monitor = api
        .create_monitor(&monitor_body(&target.url("/logs"), 1))
        .await;
    api.wait_results(&monitor.id, 1, secs(10)).await;

    let http = reqwest::Client::new();
    for _ in 0..PAGE_CLOSES {
        let mut events = http
            .get(api.url("/api/events"))
            .send()
            .await
            .expect("open /api/events");
        assert_eq!(events.status(), 200, "/api/events");
        // Wait for the first event (a result every second), then leave mid-stream.
        let first = tokio::time::timeout(secs(10), events.chunk())
            .await
            .expect("an event within 10 s")
            .expect("read /api/events");
        assert!(first.is_some(), "/api/events ended at once");
        drop(events);
    }
    // A node that stops cleanly has written out everything it was going to log.
    node.sigterm();
    let status = node.wait_exit(CLEAN_EXIT_TIMEOUT).await;
    assert!(
        status.is_some_and(|s| s.success()),
        "clean stop: {status:?}"
    );

    let log = node.stderr_log();
    assert!(log.contains("node started"), "the log is empty?\n{log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a log written to a file:\n{log}"
    );
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.is_empty(),
        "clients leaving an event stream logged errors:\n{}",
        errors.join("\n")
    );
}
