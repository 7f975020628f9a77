//! [`TestReceiver`]: a loopback HTTP/1.1 webhook endpoint that records every request and answers
//! with a programmable behaviour. hyper does the HTTP (keep-alive, chunked bodies,
//! `Expect: 100-continue`); this module records and decides the answers.
//!
//! It runs on its own thread with its own single-threaded tokio runtime, so it works from sync code,
//! from any test runtime, and keeps serving while a test blocks. Requests are recorded as soon as
//! their body has been read (before any programmed delay), with the arrival [`Instant`].

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Largest request body the receiver reads (a larger one is answered 400).
const MAX_BODY: usize = 16 * 1024 * 1024;

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Request target as sent (path plus query).
    pub path: String,
    /// Headers in arrival order; names in lower case (as hyper reads them), values trimmed.
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
                    let shared = Arc::clone(&shared);
                    let service = service_fn(move |request| answer(request, Arc::clone(&shared)));
                    tokio::spawn(async move {
                        // A failed connection is the client's doing (a reset, a malformed
                        // request hyper has already answered); there is nothing to record.
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    }
}

/// Records one request and answers it as the behaviour (or the responder) says.
async fn answer(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (head, body) = request.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            return Ok(response(
                400,
                TEXT,
                format!("cannot read the request body: {err}"),
            ))
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
    let mut received = Received {
        method: head.method.as_str().to_owned(),
        path: head.uri.to_string(),
        headers: head
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes());
                (name.as_str().to_owned(), value.trim().to_owned())
            })
            .collect(),
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
    Ok(match computed {
        Some((s, json)) => response(s, JSON, json),
        None => {
            let reason = StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("Status");
            response(status, TEXT, reason.to_owned())
        }
    })
}

const TEXT: &str = "text/plain; charset=utf-8";
const JSON: &str = "application/json; charset=utf-8";

/// A response with `body` (none for 204 and 304, which have no content); a status hyper cannot
/// send is answered as 500.
fn response(status: u16, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    if status != StatusCode::NO_CONTENT && status != StatusCode::NOT_MODIFIED {
        *response.body_mut() = Full::new(Bytes::from(body));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    response
}
