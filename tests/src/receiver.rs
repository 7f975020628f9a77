//! [`TestReceiver`]: a loopback HTTP/1.1 webhook endpoint that records every request and answers
//! with a programmable behaviour.
//!
//! It runs on its own thread with its own single-threaded tokio runtime, so it works from sync code,
//! from any test runtime, and keeps serving while a test blocks. Requests are recorded as soon as
//! their body has been read (before any programmed delay), with the arrival [`Instant`].

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Request target as sent (path plus query).
    pub path: String,
    /// Header names as sent, in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When the complete request had been read.
    pub at: Instant,
    /// Status the receiver answered (or was about to answer) with.
    pub answered: u16,
}

impl Received {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body in the message if it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| {
            panic!(
                "{} {}: body is not JSON ({err}): {}",
                self.method, self.path, self.body
            )
        })
    }
}

#[derive(Debug, Clone)]
struct Behaviour {
    status: u16,
    fail_remaining: u32,
    fail_status: u16,
    delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            status: 200,
            fail_remaining: 0,
            fail_status: 500,
            delay: Duration::ZERO,
        }
    }
}

/// Computes the answer (status, JSON body) to a request.
pub type Responder = Arc<dyn Fn(&Received) -> (u16, String) + Send + Sync>;

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Received>>,
    behaviour: Mutex<Behaviour>,
    responder: Mutex<Option<Responder>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A webhook receiver on `127.0.0.1:<random port>`. Dropping it stops it.
#[derive(Debug)]
pub struct TestReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestReceiver {
    /// Binds `127.0.0.1:0` and starts serving. Answers 200 until told otherwise.
    pub fn start() -> TestReceiver {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("receiver: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("receiver: local address");
        listener
            .set_nonblocking(true)
            .expect("receiver: set_nonblocking");
        let shared = Arc::new(Shared::default());
        let (tx, rx) = oneshot::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("receiver-{}", addr.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(err) => {
                        eprintln!("receiver: cannot build runtime: {err}");
                        return;
                    }
                };
                runtime.block_on(serve(listener, thread_shared, rx));
            })
            .expect("receiver: spawn thread");
        TestReceiver {
            addr,
            shared,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        self.url_path("/")
    }

    /// `http://127.0.0.1:<port><path>` (`path` should start with `/`).
    pub fn url_path(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Answer every following request with `status` (after any pending `fail_times`).
    pub fn respond_with(&self, status: u16) {
        lock(&self.shared.behaviour).status = status;
    }

    /// Answer the next `n` requests with `status`, then 200.
    pub fn fail_times(&self, n: u32, status: u16) {
        let mut b = lock(&self.shared.behaviour);
        b.fail_remaining = n;
        b.fail_status = status;
        b.status = 200;
    }

    /// Answer each following request with what `f` computes (a status and a JSON body),
    /// after any pending `fail_times`.
    pub fn respond_using(&self, f: impl Fn(&Received) -> (u16, String) + Send + Sync + 'static) {
        *lock(&self.shared.responder) = Some(Arc::new(f));
    }

    /// Wait this long before answering each following request (`Duration::ZERO` to stop).
    pub fn delay(&self, duration: Duration) {
        lock(&self.shared.behaviour).delay = duration;
    }

    /// Back to: 200 at once, no pending failures (recorded requests are kept).
    pub fn reset_behaviour(&self) {
        *lock(&self.shared.behaviour) = Behaviour::default();
    }

    /// Everything recorded so far, in arrival order.
    pub fn requests(&self) -> Vec<Received> {
        lock(&self.shared.requests).clone()
    }

    pub fn count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Waits until at least `count` requests have been recorded and returns all of them.
    /// Panics after `timeout` with a list of what did arrive.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let requests = lock(&self.shared.requests);
                if requests.len() >= count {
                    return requests.clone();
                }
            }
            if Instant::now() >= deadline {
                let requests = self.requests();
                panic!(
                    "receiver {}: expected {count} request(s) within {:.1} s, got {}:\n{}",
                    self.addr,
                    timeout.as_secs_f64(),
                    requests.len(),
                    describe(&requests)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits `duration` and returns what arrived in the meantime (for "nothing more arrives").
    pub async fn quiet_for(&self, duration: Duration) -> Vec<Received> {
        let before = self.count();
        tokio::time::sleep(duration).await;
        self.requests().split_off(before)
    }
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One line per request, for failure messages.
pub fn describe(requests: &[Received]) -> String {
    if requests.is_empty() {
        return "  (nothing)".to_owned();
    }
    let first = requests[0].at;
    requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut body = r.body.replace('\n', " ");
            if body.len() > 300 {
                let mut end = 300;
                while !body.is_char_boundary(end) {
                    end -= 1;
                }
                body.truncate(end);
                body.push('…');
            }
            format!(
                "  #{i} +{:.3}s {} {} -> {}: {body}",
                r.at.duration_since(first).as_secs_f64(),
                r.method,
                r.path,
                r.answered
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(err) => {
            eprintln!("receiver: cannot register listener: {err}");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    tokio::spawn(handle_connection(stream, Arc::clone(&shared)));
                }
            }
        }
    }
}

struct Head {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

async fn handle_connection(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let head = match read_head(&mut reader).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(msg) => {
                let _ = respond(&mut write, 400, &msg, true).await;
                return;
            }
        };
        if head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && write
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .is_err()
        {
            return;
        }
        let body = match read_body(&mut reader, &head).await {
            Ok(body) => body,
            Err(msg) => {
                let _ = respond(&mut write, 400, &msg, true).await;
                return;
            }
        };
        let at = Instant::now();
        let (status, delay) = {
            let mut b = lock(&shared.behaviour);
            if b.fail_remaining > 0 {
                b.fail_remaining -= 1;
                (b.fail_status, b.delay)
            } else {
                (b.status, b.delay)
            }
        };
        let close = head
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let mut received = Received {
            method: head.method,
            path: head.path,
            headers: head.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at,
            answered: status,
        };
        let responder = lock(&shared.responder).clone();
        let computed = match responder {
            Some(f) if status == 200 => Some(f(&received)),
            _ => None,
        };
        if let Some((s, _)) = &computed {
            received.answered = *s;
        }
        lock(&shared.requests).push(received);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let sent = match &computed {
            Some((s, json)) => respond_json(&mut write, *s, json, close).await,
            None => respond(&mut write, status, reason(status), close).await,
        };
        if sent.is_err() || close {
            return;
        }
    }
}

async fn read_head<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Result<Option<Head>, String> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .await
            .map_err(|e| format!("read error: {e}"))?;
        if n == 0 {
            // EOF: fine between requests, an error inside a head.
            return if lines.is_empty() {
                Ok(None)
            } else {
                Err("connection closed inside the request head".into())
            };
        }
        total += n;
        if total > MAX_HEAD {
            return Err("request head too large".into());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            if lines.is_empty() {
                continue; // tolerate stray CRLF between requests
            }
            break;
        }
        lines.push(line);
    }
    let mut request_line = lines[0].split_whitespace();
    let (Some(method), Some(path)) = (request_line.next(), request_line.next()) else {
        return Err(format!("bad request line: {}", lines[0]));
    };
    let mut headers = Vec::new();
    for line in &lines[1..] {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line: {line}"));
        };
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(Some(Head {
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
    }))
}

async fn read_body<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    head: &Head,
) -> Result<Vec<u8>, String> {
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut body = Vec::new();
        loop {
            let mut size_line = String::new();
            reader
                .read_line(&mut size_line)
                .await
                .map_err(|e| format!("read error: {e}"))?;
            let size_hex = size_line.trim().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| format!("bad chunk size: {size_line:?}"))?;
            if size == 0 {
                // Trailers until an empty line.
                loop {
                    let mut trailer = String::new();
                    let n = reader
                        .read_line(&mut trailer)
                        .await
                        .map_err(|e| format!("read error: {e}"))?;
                    if n == 0 || trailer.trim().is_empty() {
                        return Ok(body);
                    }
                }
            }
            if body.len() + size > MAX_BODY {
                return Err("body too large".into());
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader
                .read_exact(&mut body[start..])
                .await
                .map_err(|e| format!("read error: {e}"))?;
            let mut crlf = [0u8; 2];
            reader
                .read_exact(&mut crlf)
                .await
                .map_err(|e| format!("read error: {e}"))?;
        }
    }
    let length = match head.header("content-length") {
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| format!("bad content-length: {v}"))?,
        None => 0,
    };
    if length > MAX_BODY {
        return Err("body too large".into());
    }
    let mut body = vec![0u8; length];
    reader
        .read_exact(&mut body)
        .await
        .map_err(|e| format!("read error: {e}"))?;
    Ok(body)
}

async fn respond<W: AsyncWriteExt + Unpin>(
    write: &mut W,
    status: u16,
    body: &str,
    close: bool,
) -> std::io::Result<()> {
    respond_with_type(write, status, "text/plain; charset=utf-8", body, close).await
}

async fn respond_json<W: AsyncWriteExt + Unpin>(
    write: &mut W,
    status: u16,
    body: &str,
    close: bool,
) -> std::io::Result<()> {
    respond_with_type(
        write,
        status,
        "application/json; charset=utf-8",
        body,
        close,
    )
    .await
}

async fn respond_with_type<W: AsyncWriteExt + Unpin>(
    write: &mut W,
    status: u16,
    content_type: &str,
    body: &str,
    close: bool,
) -> std::io::Result<()> {
    let connection = if close { "close" } else { "keep-alive" };
    let response = if status == 204 || status == 304 {
        format!(
            "HTTP/1.1 {status} {}\r\nConnection: {connection}\r\n\r\n",
            reason(status)
        )
    } else {
        format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {connection}\r\n\r\n{body}",
            reason(status),
            body.len(),
        )
    };
    write.write_all(response.as_bytes()).await?;
    write.flush().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        410 => "Gone",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
