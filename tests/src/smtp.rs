//! An in-test mail server: a minimal SMTP server on `127.0.0.1:0` (no TLS) that stores every
//! message it is sent ([`Mail`]), so that alerting tests can count e-mail notifications.
//!
//! It speaks what an SMTP client such as lettre needs: a `220` greeting; `EHLO` (advertising
//! `8BITMIME`, `SMTPUTF8` and `AUTH PLAIN LOGIN`, never `STARTTLS`) and `HELO`; `AUTH PLAIN`
//! and `AUTH LOGIN` with any credentials, recording the user name and password; `MAIL FROM` and `RCPT TO`
//! with or without parameters such as `BODY=8BITMIME`; `DATA` up to a lone `.` line, with
//! dot-stuffing undone; `RSET`, `NOOP`, and `QUIT`. Anything else gets `502`. Commands are
//! case-insensitive; a connection may carry many messages, and many connections may be open.
//!
//! It can be told to refuse the next N messages at the end of `DATA` with a transient `451`
//! ([`SmtpSink::fail_next`]): those count as attempts but are not stored. Dropping the sink
//! closes its listener and every open connection.

use crate::server::LocalServer;
use crate::{Mail, lock, wait_for};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Longest command or data line the sink reads, CRLF included; a longer line ends the
/// connection (far above SMTP's own 1000, to stay lenient with clients).
const MAX_LINE_BYTES: u64 = 64 * 1024;

const GREETING: &str = "220 ringwatch-test-smtp ESMTP ready";
const EHLO_REPLY: &str = "250-ringwatch-test-smtp greets you\r\n\
                          250-8BITMIME\r\n\
                          250-SMTPUTF8\r\n\
                          250 AUTH PLAIN LOGIN";
const OK: &str = "250 2.0.0 OK";
/// `AUTH LOGIN`'s challenges: base64 of `Username:` and `Password:`.
const LOGIN_USER_CHALLENGE: &str = "334 VXNlcm5hbWU6";
const LOGIN_PASSWORD_CHALLENGE: &str = "334 UGFzc3dvcmQ6";

/// A running SMTP sink; stops listening and closes its connections when dropped.
pub struct SmtpSink {
    server: LocalServer,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    /// Messages still to be refused with 451.
    fail_remaining: usize,
    /// Messages whose data arrived, refused ones included.
    attempts: usize,
    /// Stored messages, oldest first.
    messages: Vec<Mail>,
}

impl SmtpSink {
    /// Binds `127.0.0.1:0` and stores every message until told otherwise.
    pub async fn start() -> SmtpSink {
        let state = Arc::new(Mutex::new(State::default()));
        let serving = Arc::clone(&state);
        let server = LocalServer::start("SMTP sink", move |stream| {
            serve(stream, Arc::clone(&serving))
        })
        .await;
        SmtpSink { server, state }
    }

    /// The address the sink listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// The port the sink listens on (the host is `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.server.addr().port()
    }

    /// Refuses the next `n` messages with `451` at the end of their data; replaces any
    /// refusals still pending from an earlier call.
    pub fn fail_next(&self, n: usize) {
        lock(&self.state).fail_remaining = n;
    }

    /// How many messages were sent so far, refused ones included.
    pub fn attempts(&self) -> usize {
        lock(&self.state).attempts
    }

    /// The stored messages, oldest first.
    pub fn messages(&self) -> Vec<Mail> {
        lock(&self.state).messages.clone()
    }

    /// The stored messages for which `pred` holds, oldest first; e.g.
    /// `sink.messages_where(|mail| mail.to.contains(&"ops@example.com".into()))`.
    pub fn messages_where(&self, pred: impl Fn(&Mail) -> bool) -> Vec<Mail> {
        lock(&self.state)
            .messages
            .iter()
            .filter(|mail| pred(mail))
            .cloned()
            .collect()
    }

    /// Polls until at least `n` messages are stored and returns them all; panics when fewer
    /// arrived within `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        wait_for(&format!("{n} stored mails"), timeout, async || {
            let messages = self.messages();
            if messages.len() >= n {
                Ok(messages)
            } else {
                Err(format!(
                    "{} stored, {} attempts",
                    messages.len(),
                    self.attempts()
                ))
            }
        })
        .await
    }
}

impl State {
    /// Stores `mail`, or refuses it as told; returns the reply.
    fn deliver(&mut self, mail: Mail) -> &'static str {
        self.attempts += 1;
        if self.fail_remaining > 0 {
            self.fail_remaining -= 1;
            return "451 4.3.0 Failing as told, try again later";
        }
        self.messages.push(mail);
        "250 2.0.0 OK: queued"
    }
}

/// What one connection has said so far.
#[derive(Default)]
struct Session {
    auth_user: Option<String>,
    auth_password: Option<String>,
    from: Option<String>,
    to: Vec<String>,
}

impl Session {
    /// Forgets the mail transaction (not the authentication), as `RSET` and `EHLO` do.
    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
    }

    fn mail_from(&mut self, arg: &str) -> &'static str {
        match path_arg(arg, "FROM") {
            Some(from) => {
                self.reset();
                self.from = Some(from.to_owned());
                OK
            }
            None => "501 5.5.4 Syntax: MAIL FROM:<address>",
        }
    }

    fn rcpt_to(&mut self, arg: &str) -> &'static str {
        if self.from.is_none() {
            return "503 5.5.1 MAIL first";
        }
        match path_arg(arg, "TO") {
            Some(to) => {
                self.to.push(to.to_owned());
                OK
            }
            None => "501 5.5.4 Syntax: RCPT TO:<address>",
        }
    }
}

/// One connection: a buffered stream that reads lines and writes replies.
struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    async fn reply(&mut self, reply: &str) -> io::Result<()> {
        // One write per reply: Nagle holds a second small write until the first is ACKed, and
        // the client delays that ACK, some 40 ms per reply.
        let stream = self.stream.get_mut();
        stream.write_all(format!("{reply}\r\n").as_bytes()).await?;
        stream.flush().await
    }

    /// The next line without its line ending; `None` at the end of the stream.
    async fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        let read = (&mut self.stream)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') && read as u64 == MAX_LINE_BYTES {
            return Err(io::Error::other("line too long"));
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(Some(line))
    }

    /// The next line as text; the end of the stream is an error here, mid-exchange.
    async fn read_text_line(&mut self) -> io::Result<String> {
        match self.read_line().await? {
            Some(line) => Ok(String::from_utf8_lossy(&line).into_owned()),
            None => Err(io::ErrorKind::UnexpectedEof.into()),
        }
    }

    /// Sends `challenge` and returns the client's answer.
    async fn challenge(&mut self, challenge: &str) -> io::Result<String> {
        self.reply(challenge).await?;
        self.read_text_line().await
    }

    /// Message data up to the lone `.` line, dot-stuffing undone, each line ending in CRLF.
    async fn read_data(&mut self) -> io::Result<String> {
        let mut data = Vec::new();
        loop {
            let Some(line) = self.read_line().await? else {
                return Err(io::ErrorKind::UnexpectedEof.into());
            };
            if line == b"." {
                return Ok(String::from_utf8_lossy(&data).into_owned());
            }
            data.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
            data.extend_from_slice(b"\r\n");
        }
    }
}

async fn serve(stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut conn = Conn {
        stream: BufReader::new(stream),
    };
    // An I/O error ends this connection only, as a real server's would.
    let _ = converse(&mut conn, &state).await;
}

/// Runs one SMTP conversation until `QUIT` or the end of the stream.
async fn converse(conn: &mut Conn, state: &Mutex<State>) -> io::Result<()> {
    conn.reply(GREETING).await?;
    let mut session = Session::default();
    while let Some(line) = conn.read_line().await? {
        let line = String::from_utf8_lossy(&line);
        let (verb, arg) = line.split_once(' ').unwrap_or((&line, ""));
        let reply = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                session.reset();
                EHLO_REPLY
            }
            "HELO" => {
                session.reset();
                "250 ringwatch-test-smtp"
            }
            "AUTH" => auth(conn, &mut session, arg).await?,
            "MAIL" => session.mail_from(arg),
            "RCPT" => session.rcpt_to(arg),
            "DATA" => data(conn, &mut session, state).await?,
            "RSET" => {
                session.reset();
                OK
            }
            "NOOP" => OK,
            "QUIT" => return conn.reply("221 2.0.0 Bye").await,
            _ => "502 5.5.2 Command not implemented",
        };
        conn.reply(reply).await?;
    }
    Ok(())
}

/// `AUTH PLAIN` or `AUTH LOGIN`, initial response or not; any credentials are accepted and
/// the user name and password are recorded.
async fn auth(conn: &mut Conn, session: &mut Session, arg: &str) -> io::Result<&'static str> {
    let mut words = arg.split_whitespace();
    let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
    let initial = words.next().map(str::to_owned);
    let creds = match mechanism.as_str() {
        "PLAIN" => {
            let response = match initial {
                Some(response) => response,
                None => conn.challenge("334 ").await?,
            };
            // authorisation identity NUL user name NUL password
            decode_base64_text(&response).and_then(|creds| {
                let mut fields = creds.split('\0').skip(1);
                let user = fields.next()?.to_owned();
                Some((user, fields.next().map(str::to_owned)))
            })
        }
        "LOGIN" => {
            let user = match initial {
                Some(user) => user,
                None => conn.challenge(LOGIN_USER_CHALLENGE).await?,
            };
            let password = conn.challenge(LOGIN_PASSWORD_CHALLENGE).await?;
            decode_base64_text(&user).map(|user| (user, decode_base64_text(&password)))
        }
        _ => return Ok("504 5.5.4 Unrecognized authentication type"),
    };
    Ok(match creds {
        Some((user, password)) => {
            session.auth_user = Some(user);
            session.auth_password = password;
            "235 2.7.0 Authentication successful"
        }
        // A cancelled exchange (`*`) lands here too: it is not base64.
        None => "501 5.5.2 Cannot decode response",
    })
}

/// `DATA`: reads the message and stores it (or refuses it, as told); the transaction ends
/// either way.
async fn data(
    conn: &mut Conn,
    session: &mut Session,
    state: &Mutex<State>,
) -> io::Result<&'static str> {
    let Some(from) = session.from.clone() else {
        return Ok("503 5.5.1 MAIL first");
    };
    if session.to.is_empty() {
        return Ok("503 5.5.1 RCPT first");
    }
    conn.reply("354 End data with <CR><LF>.<CR><LF>").await?;
    let data = conn.read_data().await?;
    let mail = Mail {
        from,
        to: std::mem::take(&mut session.to),
        data,
        auth_user: session.auth_user.clone(),
        auth_password: session.auth_password.clone(),
        at: Instant::now(),
    };
    session.reset();
    Ok(lock(state).deliver(mail))
}

/// The address in `FROM:<a@b> PARAMS` (for `keyword` `FROM`), tolerant of any case, a space
/// after the colon, and a missing pair of angle brackets; parameters are ignored.
fn path_arg<'a>(arg: &'a str, keyword: &str) -> Option<&'a str> {
    let (head, rest) = arg.split_once(':')?;
    if !head.trim().eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = rest.trim_start();
    match rest.strip_prefix('<') {
        Some(bracketed) => bracketed.split_once('>').map(|(path, _)| path),
        None => rest.split_whitespace().next(),
    }
}

fn decode_base64_text(text: &str) -> Option<String> {
    let bytes = BASE64.decode(text.trim()).ok()?;
    String::from_utf8(bytes).ok()
}
