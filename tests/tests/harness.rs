//! Self-tests of the harness that need no node: the target and the alert sinks behave as each
//! test relies on, and the startup line parses. A plain reqwest client stands in for the
//! node's prober and webhook sender; a raw-socket client and lettre stand in for its mailer.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use ringwatch_tests::{Behavior, Listening, SmtpSink, Target, WebhookSink, ms, secs, wait_until};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

fn client(redirects: usize, timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(redirects))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_200_by_default_then_switched_status_and_counts_hits() {
    let target = Target::start().await;
    let http = client(0, secs(5));
    let before = Instant::now();

    let resp = http.get(target.url("/x?q=1")).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.expect("body"), "ok");

    target.set("/x", Behavior::Status(500));
    let resp = http.get(target.url("/x")).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 500);
    // Same connection, kept alive, for a HEAD with no body.
    let resp = http.head(target.url("/x")).send().await.expect("head");
    assert_eq!(resp.status().as_u16(), 500);

    assert_eq!(target.hits("/x"), 3);
    assert_eq!(target.hits("/y"), 0);
    assert_eq!(target.hits_between("/x", before, Instant::now()), 3);
    assert_eq!(target.hits_since("/x", Instant::now()), 0);
    assert!(target.last_hit("/x").is_some_and(|at| at >= before));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_chain_ends_in_200_and_every_hop_counts() {
    let target = Target::with("/chain", Behavior::RedirectChain { hops: 3 }).await;
    let resp = client(10, secs(5))
        .get(target.url("/chain"))
        .send()
        .await
        .expect("follow 3 redirects");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(target.hits("/chain"), 4);

    target.set("/chain", Behavior::RedirectChain { hops: 50 });
    let err = client(10, secs(5))
        .get(target.url("/chain"))
        .send()
        .await
        .expect_err("50 hops exceed 10");
    assert!(err.is_redirect(), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loop_never_ends() {
    let target = Target::start().await;
    target.set_redirect_loop("/a", "/b");
    let err = client(10, secs(5))
        .get(target.url("/a"))
        .send()
        .await
        .expect_err("a loop");
    assert!(err.is_redirect(), "{err:?}");
    assert!(target.hits("/a") >= 1 && target.hits("/b") >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_hang_outlast_a_short_timeout() {
    let target = Target::start().await;
    target.set(
        "/slow",
        Behavior::Slow {
            delay: ms(1500),
            status: 200,
        },
    );
    target.set("/hang", Behavior::Hang);
    let http = client(0, ms(300));
    for path in ["/slow", "/hang"] {
        let err = http.get(target.url(path)).send().await.expect_err(path);
        assert!(err.is_timeout(), "{path}: {err:?}");
        assert_eq!(target.hits(path), 1, "{path}");
    }
    let resp = client(0, secs(5))
        .get(target.url("/slow"))
        .send()
        .await
        .expect("slow but within the timeout");
    assert_eq!(resp.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_and_huge_headers_are_not_http() {
    let target = Target::start().await;
    target.set("/garbage", Behavior::Garbage);
    target.set("/huge", Behavior::HugeHeaders { bytes: 1 << 20 });
    let http = client(0, secs(5));
    for path in ["/garbage", "/huge"] {
        let err = http.get(target.url(path)).send().await.expect_err(path);
        assert!(!err.is_timeout(), "{path}: {err:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_body_streams_past_any_cap() {
    let target = Target::with("/endless", Behavior::EndlessBody).await;
    let resp = client(0, secs(10))
        .get(target.url("/endless"))
        .send()
        .await
        .expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    let read = read_some_body(resp, 4 << 20).await;
    assert!(read >= 4 << 20, "read {read} bytes");
}

#[test]
fn startup_line_parses() {
    let line = "listening http=127.0.0.1:41234 cluster=127.0.0.1:41235 name=n1\n";
    let parsed = Listening::parse(line).expect("parses");
    assert_eq!(parsed.http, "127.0.0.1:41234".parse().unwrap());
    assert_eq!(parsed.cluster, "127.0.0.1:41235".parse().unwrap());
    assert_eq!(parsed.name, "n1");
    assert!(Listening::parse("starting node n1").is_none());
    assert!(Listening::parse("listening http=127.0.0.1:1 name=n1").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_sink_fails_as_told_and_counts_attempts_apart_from_deliveries() {
    let sink = WebhookSink::start().await;
    let http = client(0, secs(5));
    sink.fail_next(3);
    let mut statuses = Vec::new();
    for attempt in 1..=4 {
        let resp = http
            .post(sink.url("/hooks/alerts?token=t"))
            .header("X-Ringwatch-Event", "monitor.down")
            .json(&json!({"status": "down", "attempt": attempt}))
            .send()
            .await
            .expect("post");
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, [500, 500, 500, 200]);
    assert_eq!(sink.attempts(), 4);

    let accepted = sink.wait_for(1, secs(5)).await;
    assert_eq!(accepted.len(), 1);
    let delivery = &accepted[0];
    assert_eq!(delivery.method, "POST");
    assert_eq!(delivery.path, "/hooks/alerts");
    assert_eq!(delivery.query.as_deref(), Some("token=t"));
    assert_eq!(delivery.header("X-Ringwatch-Event"), Some("monitor.down"));
    assert_eq!(
        delivery.headers.get("content-type").map(String::as_str),
        Some("application/json")
    );
    assert_eq!(delivery.json, Some(json!({"status": "down", "attempt": 4})));
    let attempts = sink.wait_for_attempts(4, secs(5)).await;
    assert!(attempts.windows(2).all(|pair| pair[0].at <= pair[1].at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_sink_filters_json_and_refuses_what_is_not_a_delivery() {
    let sink = WebhookSink::start().await;
    let http = client(0, secs(5));
    for status in ["down", "up", "down"] {
        let resp = http.post(sink.url("/a")).json(&json!({"status": status}));
        assert_eq!(resp.send().await.expect("post").status().as_u16(), 200);
    }
    let resp = http.post(sink.url("/b")).body("plain text").send().await;
    assert_eq!(resp.expect("post").status().as_u16(), 200);
    let resp = http.get(sink.url("/a")).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 405);
    // The client may see a reset instead of the 413 when the sink stops reading its body.
    let too_big = vec![b'x'; ringwatch_tests::MAX_WEBHOOK_BODY_BYTES + 1];
    let _ = http.post(sink.url("/a")).body(too_big).send().await;

    let downs = sink
        .wait_for_where(2, secs(5), |json| json["status"] == "down")
        .await;
    assert_eq!(downs.len(), 2);
    assert_eq!(sink.accepted_where(|json| json["status"] == "up").len(), 1);
    let accepted = sink.accepted();
    assert_eq!(accepted.len(), 4);
    assert!(accepted[3].json.is_none() && accepted[3].body_text() == "plain text");
    let refused: Vec<u16> = sink
        .wait_for_attempts(6, secs(5))
        .await
        .iter()
        .filter(|received| !received.is_accepted())
        .map(|received| received.status)
        .collect();
    assert_eq!(refused, [405, 413]);

    // A dropped sink is gone, kept-alive connections included.
    let url = sink.url("/a");
    drop(sink);
    wait_until("the dropped sink refuses deliveries", secs(5), async || {
        http.post(&url).body("x").send().await.is_err()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_sink_stores_messages_of_a_raw_session_with_dot_stuffing_undone() {
    let sink = SmtpSink::start().await;
    let mut smtp = RawSmtp::connect(sink.addr()).await;
    let ehlo = smtp.command("ehlo client.test", "250").await;
    assert!(
        ehlo.contains("AUTH PLAIN LOGIN") && ehlo.contains("8BITMIME"),
        "{ehlo}"
    );
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    smtp.command("AUTH LOGIN", "334 VXNlcm5hbWU6").await;
    smtp.command(&BASE64.encode("alerts"), "334 UGFzc3dvcmQ6")
        .await;
    smtp.command(&BASE64.encode("secret"), "235").await;
    smtp.command("VRFY ops", "502").await;

    smtp.command(
        "mail from:<alerts@ringwatch.test> BODY=8BITMIME SMTPUTF8",
        "250",
    )
    .await;
    smtp.command("RCPT TO:<ops@example.com>", "250").await;
    smtp.command("rcpt to: <oncall@example.com>", "250").await;
    smtp.command("DATA", "354").await;
    let data = [
        "From: Ringwatch <alerts@ringwatch.test>",
        "Subject: [DOWN] api",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "api is DOWN: connection =",
        "refused (caf=C3=A9)",
        "..starts with a dot",
        "...",
        ".",
    ];
    smtp.command(&data.join("\r\n"), "250").await;

    // A second message on the same connection, after a reset and a refused out-of-order RCPT.
    smtp.command("RSET", "250").await;
    smtp.command("RCPT TO:<ops@example.com>", "503").await;
    smtp.command("MAIL FROM:<>", "250").await;
    smtp.command("RCPT TO:<ops@example.com>", "250").await;
    smtp.command("DATA", "354").await;
    let body = BASE64.encode("second body");
    let data = format!("Subject: second\r\nContent-Transfer-Encoding: base64\r\n\r\n{body}\r\n.");
    smtp.command(&data, "250").await;
    smtp.command("NOOP", "250").await;
    smtp.command("QUIT", "221").await;
    assert!(smtp.closed().await, "QUIT closes the connection");

    let mails = sink.wait_for(2, secs(5)).await;
    assert_eq!(mails.len(), 2);
    let first = &mails[0];
    assert_eq!(first.from, "alerts@ringwatch.test");
    assert_eq!(first.to, ["ops@example.com", "oncall@example.com"]);
    assert_eq!(first.auth_user.as_deref(), Some("alerts"));
    assert!(
        first.data.contains("\r\n.starts with a dot\r\n..\r\n"),
        "{}",
        first.data
    );
    assert_eq!(first.subject().as_deref(), Some("[DOWN] api"));
    assert_eq!(
        first.body(),
        "api is DOWN: connection refused (café)\n.starts with a dot\n.."
    );
    let second = &mails[1];
    assert_eq!((second.from.as_str(), second.to.len()), ("", 1));
    assert_eq!(second.auth_user.as_deref(), Some("alerts"));
    assert_eq!(second.subject().as_deref(), Some("second"));
    assert_eq!(second.body(), "second body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_sink_refuses_as_told_and_serves_connections_side_by_side() {
    let sink = SmtpSink::start().await;
    sink.fail_next(1);
    let mut a = RawSmtp::connect(sink.addr()).await;
    let mut b = RawSmtp::connect(sink.addr()).await;
    a.command("HELO a.test", "250").await;
    b.command("EHLO b.test", "250").await;
    a.command("AUTH CRAM-MD5", "504").await;
    a.command("AUTH PLAIN", "334").await;
    a.command(&BASE64.encode("\0ops\0pw"), "235").await;
    b.command(&format!("AUTH PLAIN {}", BASE64.encode("\0b\0pw")), "235")
        .await;
    a.command("DATA", "503").await;
    for (client, subject, code) in [(&mut a, "refused", "451"), (&mut b, "kept", "250")] {
        client.command("MAIL FROM:<a@b>", "250").await;
        client.command("RCPT TO:<c@d>", "250").await;
        client.command("DATA", "354").await;
        client
            .command(&format!("Subject: {subject}\r\n\r\nx\r\n."), code)
            .await;
    }
    assert_eq!(sink.attempts(), 2);
    let mails = sink.wait_for(1, secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject().as_deref(), Some("kept"));
    assert_eq!(mails[0].auth_user.as_deref(), Some("b"));
    assert_eq!(sink.messages_where(|mail| mail.to == ["c@d"]).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_sink_takes_mail_from_lettre() {
    let sink = SmtpSink::start().await;
    let mailer = |mechanism| {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(sink.port())
            .credentials(Credentials::new("alerts".into(), "secret".into()))
            .authentication(vec![mechanism])
            .timeout(Some(secs(5)))
            .build()
    };
    let text = "Monitor «api» is DOWN ✗\n.a line with a leading dot\nend";
    let message = || {
        Message::builder()
            .from("Ringwatch <alerts@ringwatch.test>".parse().unwrap())
            .to("ops@example.com".parse().unwrap())
            .to("On Call <oncall@example.com>".parse().unwrap())
            .subject("[DOWN] «api» ✗")
            .header(ContentType::TEXT_PLAIN)
            .body(text.to_owned())
            .expect("message")
    };

    sink.fail_next(1);
    let err = mailer(Mechanism::Plain)
        .send(message())
        .await
        .expect_err("refused as told");
    assert!(err.is_transient(), "{err:?}");
    mailer(Mechanism::Plain)
        .send(message())
        .await
        .expect("send");
    mailer(Mechanism::Login)
        .send(message())
        .await
        .expect("send");

    let mails = sink.wait_for(2, secs(5)).await;
    assert_eq!((mails.len(), sink.attempts()), (2, 3));
    for mail in &mails {
        assert_eq!(mail.from, "alerts@ringwatch.test");
        assert_eq!(mail.to, ["ops@example.com", "oncall@example.com"]);
        assert_eq!(mail.auth_user.as_deref(), Some("alerts"));
        assert_eq!(mail.subject().as_deref(), Some("[DOWN] «api» ✗"));
        assert_eq!(mail.body(), text);
    }
}

/// A raw SMTP client, for sessions spelled out line by line.
struct RawSmtp {
    stream: BufReader<TcpStream>,
}

impl RawSmtp {
    /// Connects and checks the greeting.
    async fn connect(addr: SocketAddr) -> RawSmtp {
        let stream = TcpStream::connect(addr)
            .await
            .expect("connect to SMTP sink");
        let mut smtp = RawSmtp {
            stream: BufReader::new(stream),
        };
        let greeting = smtp.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        smtp
    }

    /// Sends `text` (one or more lines) and returns the reply, which must start with `code`.
    async fn command(&mut self, text: &str, code: &str) -> String {
        let stream = self.stream.get_mut();
        stream
            .write_all(format!("{text}\r\n").as_bytes())
            .await
            .expect("send");
        let reply = self.reply().await;
        assert!(reply.starts_with(code), "{text:?} got {reply:?}");
        reply
    }

    /// One reply, its lines (`250-...` up to `250 ...`) joined with `\n`.
    async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read = self.stream.read_line(&mut line).await.expect("read reply");
            assert!(read > 0, "connection closed mid-reply after {lines:?}");
            let line = line.trim_end().to_owned();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    /// Whether the server has closed the connection.
    async fn closed(&mut self) -> bool {
        let mut rest = String::new();
        self.stream
            .read_line(&mut rest)
            .await
            .is_ok_and(|read| read == 0)
    }
}

/// Reads body chunks until at least `bytes` arrived; returns how many did.
async fn read_some_body(mut resp: reqwest::Response, bytes: usize) -> usize {
    let mut read = 0;
    while read < bytes {
        match resp.chunk().await.expect("body chunk") {
            Some(chunk) => read += chunk.len(),
            None => break,
        }
    }
    read
}
