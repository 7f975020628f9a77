//! [`TestServer`]: the worker running under `wrangler dev` on a free loopback port.
//!
//! Each server is its own process group (`wrangler` → `node cli.js` → `workerd` ×2, `esbuild`), so
//! stopping it kills the whole tree; killing only the top process would leave workerd serving.
//! As a safety net for a test process that dies without running destructors (Ctrl-C, a panic in
//! `main`, SIGKILL of the runner), wrangler is spawned with `PR_SET_PDEATHSIG = SIGTERM` from a
//! spawner thread that lives as long as the process, and wrangler cleans up workerd on SIGTERM.
//!
//! Every setting of CONTRACT §2 is passed with `--var NAME:VALUE` (empty = "unset, use the built-in
//! default"), and `.dev.vars` / `.env` loading is switched off (`--env-file /dev/null`,
//! `CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV=false`), so a developer's local files cannot leak in.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::client::TestClient;

/// The CONTRACT §2 settings; the harness always passes every one of them.
pub const SETTINGS: &[&str] = &[
    "ALTINN_JWKS",
    "ALTINN_OPENID_WELLKNOWN",
    "PLATFORM_ACCESS_JWKS",
    "EVENTS_BASE_URL",
    "APPS_DOMAIN",
    "WEBHOOK_ALLOW_PRIVATE",
    "DELIVERY_RETRY_DELAYS",
    "WEBHOOK_TIMEOUT_SECONDS",
    "PDP_URL",
    "DEV_MODE",
    "MASKINPORTEN_JWKS",
    "MASKINPORTEN_WELLKNOWN",
    "MASKINPORTEN_ISSUER",
    "TOKEN_SIGNING_JWK",
    "DISABLE_AFTER_HOURS",
    "EVENT_RETENTION_DAYS",
];

/// Default readiness timeout; the first start includes a release build of the worker.
/// Override with `E2E_START_TIMEOUT_SECS`.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(600);

const STOP_GRACE: Duration = Duration::from_secs(5);
const LOG_TAIL_LINES: usize = 80;

/// Why a server did not come up.
#[derive(Debug)]
pub struct StartError {
    pub message: String,
    pub log_path: PathBuf,
    pub log_tail: String,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n--- last lines of {} ---\n{}\n--- end of log ---",
            self.message,
            self.log_path.display(),
            self.log_tail
        )
    }
}

impl std::error::Error for StartError {}

/// A running `wrangler dev` serving the worker. Dropping it kills the whole process group.
#[derive(Debug)]
pub struct TestServer {
    child: Mutex<Option<Child>>,
    pgid: i32,
    port: u16,
    base_url: String,
    state_dir: PathBuf,
    log_path: PathBuf,
    vars: Vec<(String, String)>,
    startup: Duration,
}

impl TestServer {
    /// Starts a server with a fresh state directory under `<repo>/target/e2e-state/`.
    /// `vars` override the defaults (see [`TestServer::start_with_state`]). Panics (with the
    /// tail of wrangler's log) if the server does not become ready.
    #[track_caller]
    pub fn start(vars: &[(&str, &str)]) -> TestServer {
        Self::start_with_state(new_state_dir(), vars)
    }

    /// Starts a server persisting to `dir` (created if missing), e.g. the directory returned by
    /// [`stop`](Self::stop) to test a restart.
    ///
    /// Every CONTRACT §2 setting is passed: empty (= built-in default), except
    /// `WEBHOOK_ALLOW_PRIVATE=true`, `DEV_MODE=true` and `EVENTS_BASE_URL=http://127.0.0.1:<port>`. `vars` override
    /// those and may add other variables.
    #[track_caller]
    pub fn start_with_state(dir: impl Into<PathBuf>, vars: &[(&str, &str)]) -> TestServer {
        match Self::try_start_with_state(dir, vars) {
            Ok(server) => server,
            Err(err) => panic!("wrangler dev did not start: {err}"),
        }
    }

    /// Like [`start_with_state`](Self::start_with_state) but returns the error. If the free port
    /// picked for wrangler was taken in the meantime, retries with another one (twice).
    pub fn try_start_with_state(
        dir: impl Into<PathBuf>,
        vars: &[(&str, &str)],
    ) -> Result<TestServer, StartError> {
        let state_dir: PathBuf = dir.into();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once(state_dir.clone(), vars) {
                Err(err) if attempt < 3 && err.log_tail.contains("Address already in use") => {
                    continue
                }
                result => return result,
            }
        }
    }

    fn start_once(state_dir: PathBuf, vars: &[(&str, &str)]) -> Result<TestServer, StartError> {
        let log_path = state_dir.join("wrangler.log");
        let fail = |message: String| StartError {
            log_tail: tail(&log_path, LOG_TAIL_LINES),
            log_path: log_path.clone(),
            message,
        };
        fs::create_dir_all(&state_dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", state_dir.display())))?;

        // One start at a time: each start runs worker-build in the shared target directory.
        let _guard = lock(&START_LOCK);

        let port = free_port().map_err(|e| fail(format!("no free port: {e}")))?;
        let base_url = format!("http://127.0.0.1:{port}");
        let vars = effective_vars(vars, &base_url);

        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| fail(format!("cannot open {}: {e}", log_path.display())))?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = writeln!(
            log,
            "=== harness: wrangler dev on port {port} at unix {} ===",
            unix_now()
        );
        let log_err = log
            .try_clone()
            .map_err(|e| fail(format!("cannot clone log handle: {e}")))?;

        let command = wrangler_command(port, &state_dir, &vars, log, log_err)
            .map_err(|e| fail(e.to_string()))?;
        let started = Instant::now();
        let child = spawn_with_parent_death_signal(command)
            .map_err(|e| fail(format!("cannot spawn wrangler: {e}")))?;
        let pgid = child.id() as i32;
        let mut server = TestServer {
            child: Mutex::new(Some(child)),
            pgid,
            port,
            base_url,
            state_dir,
            log_path: log_path.clone(),
            vars,
            startup: Duration::ZERO,
        };

        let timeout = std::env::var("E2E_START_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_START_TIMEOUT);
        match server.wait_ready(timeout) {
            Ok(()) => {
                server.startup = started.elapsed();
                Ok(server)
            }
            Err(message) => {
                server.kill();
                Err(StartError {
                    message: format!(
                        "{message} (after {:.1} s; state dir {})",
                        started.elapsed().as_secs_f64(),
                        server.state_dir.display()
                    ),
                    log_tail: tail_from(&log_path, log_start, LOG_TAIL_LINES),
                    log_path,
                })
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `base_url()` + `path` (`path` starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Process id of the top wrangler process, which is also the process group id.
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// The `--persist-to` directory (also holds `wrangler.log`).
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// The last `lines` lines of wrangler's output (all starts on this state dir).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log_path, lines)
    }

    /// The variables passed with `--var`, in order.
    pub fn vars(&self) -> &[(String, String)] {
        &self.vars
    }

    /// Time from spawning wrangler until `/health` answered 200.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// A client for this server.
    pub fn client(&self) -> TestClient {
        TestClient::new(&self.base_url)
    }

    /// Kills the server (whole process group) and returns its state directory for a restart.
    pub fn stop(mut self) -> PathBuf {
        self.kill();
        std::mem::take(&mut self.state_dir)
    }

    /// Kills the server now, through a shared reference (e.g. one held in an `Arc`); idempotent.
    pub fn shutdown(&self) {
        self.kill();
    }

    /// False once the server has been stopped or wrangler has exited by itself.
    pub fn is_running(&self) -> bool {
        let mut child = lock(&self.child);
        match child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn wait_ready(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut last;
        loop {
            if let Some(child) = lock(&self.child).as_mut() {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        return Err(format!("wrangler exited before it was ready ({status})"))
                    }
                    Ok(None) => {}
                    Err(e) => return Err(format!("cannot poll wrangler: {e}")),
                }
            }
            match http_get(addr, "/health", Duration::from_secs(5)) {
                Ok((200, _)) => return Ok(()),
                // The worker is serving but refuses a bad setting (tests of that rule), or
                // fails closed for a missing key setting outside DEV_MODE.
                Ok((500, body)) if body.contains("The setting ") => return Ok(()),
                Ok((503, body)) if body.contains("Missing setting: ") => return Ok(()),
                Ok((status, body)) => {
                    last = format!("GET /health answered {status}: {}", truncate(&body, 200))
                }
                Err(e) => last = format!("GET /health: {e}"),
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "not ready within {} s; last attempt: {last}",
                    timeout.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// SIGTERM to the group, up to 5 s grace, then SIGKILL; reaps the top process.
    fn kill(&self) {
        let Some(mut child) = lock(&self.child).take() else {
            return;
        };
        // SAFETY: plain syscall on a process group we created.
        unsafe { libc::killpg(self.pgid, libc::SIGTERM) };
        let deadline = Instant::now() + STOP_GRACE;
        let mut reaped = false;
        while Instant::now() < deadline {
            if !reaped {
                reaped = matches!(child.try_wait(), Ok(Some(_)));
            }
            if reaped && !group_alive(self.pgid) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // SAFETY: as above.
        unsafe { libc::killpg(self.pgid, libc::SIGKILL) };
        if !reaped {
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while group_alive(self.pgid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// True while any non-zombie process is in process group `pgid` (Linux `/proc`).
pub fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = fs::read_dir("/proc") else {
        // No /proc: fall back to signal 0, which also counts zombies.
        // SAFETY: signal 0 only checks for existence.
        return unsafe { libc::killpg(pgid, 0) } == 0;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // Fields after the parenthesised command: state ppid pgrp ...
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let pgrp = fields.nth(1).and_then(|s| s.parse::<i32>().ok());
        if pgrp == Some(pgid) && state != "Z" && state != "X" {
            return true;
        }
    }
    false
}

static START_LOCK: Mutex<()> = Mutex::new(());

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn effective_vars(overrides: &[(&str, &str)], base_url: &str) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = SETTINGS
        .iter()
        .map(|name| {
            let value = match *name {
                "WEBHOOK_ALLOW_PRIVATE" | "DEV_MODE" => "true".to_owned(),
                "EVENTS_BASE_URL" => base_url.to_owned(),
                _ => String::new(),
            };
            ((*name).to_owned(), value)
        })
        .collect();
    for (name, value) in overrides {
        match vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = (*value).to_owned(),
            None => vars.push(((*name).to_owned(), (*value).to_owned())),
        }
    }
    vars
}

fn wrangler_command(
    port: u16,
    state_dir: &Path,
    vars: &[(String, String)],
    stdout: File,
    stderr: File,
) -> io::Result<Command> {
    let root = crate::repo_root();
    let bin_dir = root.join("node_modules").join(".bin");
    let wrangler = bin_dir.join("wrangler");
    if !wrangler.exists() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "{} is missing: run `npm ci` at the repository root",
                wrangler.display()
            ),
        ));
    }
    for (name, _) in vars {
        if name.is_empty() || name.contains(':') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("bad variable name {name:?}"),
            ));
        }
    }

    let mut path = vec![bin_dir];
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|home| home.join("bin"));
    if let Some(cargo_bin) = cargo_bin {
        path.push(cargo_bin);
    }
    if let Some(existing) = std::env::var_os("PATH") {
        path.extend(std::env::split_paths(&existing));
    }
    let path = std::env::join_paths(path)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;

    // `warn` shows worker console.warn/error and build failures; `info` adds one line per request,
    // `log` adds console.log.
    let log_level = std::env::var("E2E_WRANGLER_LOG_LEVEL").unwrap_or_else(|_| "warn".to_owned());

    let config = test_config(&root)?;
    let mut cmd = Command::new(&wrangler);
    cmd.current_dir(&root)
        .arg("dev")
        .arg("--config")
        .arg(&config)
        .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
        .arg("--persist-to")
        .arg(state_dir)
        .args([
            "--show-interactive-dev-session=false",
            "--log-level",
            &log_level,
        ])
        // Load no .dev.vars / .env: only what is passed below reaches the worker.
        .args(["--env-file", "/dev/null"]);
    for (name, value) in vars {
        cmd.arg("--var").arg(format!("{name}:{value}"));
    }
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CLOUDFLARE_") || name.starts_with("WRANGLER_") {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd.env("PATH", path)
        .env("WRANGLER_SEND_METRICS", "false")
        .env("WRANGLER_SEND_ERROR_REPORTS", "false")
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV", "false")
        .env("DO_NOT_TRACK", "1")
        // wrangler's own debug logs: next to the state, not in ~/.config/.wrangler/logs.
        .env("WRANGLER_LOG_PATH", state_dir.join("wrangler-logs"))
        // A private dev registry: concurrent servers (and a developer's own `wrangler dev` of the
        // same worker name) must not discover each other.
        .env("WRANGLER_REGISTRY_PATH", state_dir.join("registry"))
        // wrangler dev's local dashboards trace every invocation, at a fifth of workerd's CPU
        // under load; off as in scripts/dev unless the caller's environment says otherwise.
        .env("X_LOCAL_OBSERVABILITY", dashboard("X_LOCAL_OBSERVABILITY"))
        .env("X_LOCAL_EXPLORER", dashboard("X_LOCAL_EXPLORER"))
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .process_group(0);
    // SAFETY: only async-signal-safe calls (prctl, getppid, _exit) between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The spawner thread never exits, so the parent is gone only if the process is.
            if libc::getppid() == 1 {
                libc::_exit(1);
            }
            Ok(())
        });
    }
    Ok(cmd)
}

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `command` from a thread that lives as long as the process: `PR_SET_PDEATHSIG` fires when
/// the *thread* that forked exits, so forking from a short-lived test thread would kill the server
/// as soon as that test's thread ends.
/// `wrangler.toml` as the tests run it: the same file, moved into `target/` with `main` and the
/// `[assets]` `directory` adjusted (wrangler resolves both against the config file; `[build] cwd`
/// against the working directory, so it stays) and its `watch_dir` pointed at a directory nobody
/// edits, so that editing the source while the suite runs does not rebuild and reload the servers
/// under test. The build command assembles the assets (scripts/assets) as it does for scripts/dev.
/// A wrangler dev dashboard's switch: the caller's, or off.
fn dashboard(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| "false".to_owned())
}

fn test_config(root: &Path) -> io::Result<PathBuf> {
    let text = std::fs::read_to_string(root.join("wrangler.toml"))?;
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("main = \"") {
            out.push_str(&line.replacen("main = \"", "main = \"../", 1));
        } else if trimmed.starts_with("directory = \"") {
            out.push_str(&line.replacen("directory = \"", "directory = \"../", 1));
        } else if trimmed.starts_with("watch_dir") {
            out.push_str("watch_dir = [\"e2e-nowatch\"]");
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let dir = root.join("target");
    std::fs::create_dir_all(dir.join("e2e-nowatch"))?;
    let path = dir.join("e2e-wrangler.toml");
    // Several servers may start in one run; write once per content.
    if std::fs::read_to_string(&path).ok().as_deref() != Some(out.as_str()) {
        let tmp = dir.join(format!("e2e-wrangler.toml.{}", std::process::id()));
        std::fs::write(&tmp, &out)?;
        std::fs::rename(&tmp, &path)?;
    }
    Ok(path)
}

fn spawn_with_parent_death_signal(command: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        let spawned = std::thread::Builder::new()
            .name("wrangler-spawner".into())
            .spawn(move || {
                for (mut command, reply) in rx {
                    let _ = reply.send(command.spawn());
                }
            });
        if let Err(e) = spawned {
            eprintln!("cannot start the spawner thread: {e}");
        }
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    sender
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .send((command, reply_tx))
        .map_err(|_| io::Error::other("spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("spawner thread did not answer"))?
}

/// A fresh, unique directory under `<repo>/target/e2e-state/`. Directories older than a day are
/// pruned the first time this is called in a process.
pub fn new_state_dir() -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PRUNED: OnceLock<()> = OnceLock::new();
    let parent = crate::repo_root().join("target").join("e2e-state");
    PRUNED.get_or_init(|| prune_old_state_dirs(&parent));
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    parent.join(format!(
        "{}-{}-{n}-{nanos:09}",
        unix_now(),
        std::process::id()
    ))
}

fn prune_old_state_dirs(parent: &Path) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let day = Duration::from_secs(24 * 3600);
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day);
        if old {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}

/// Minimal blocking `GET` (HTTP/1.1, `Connection: close`), used for readiness polling without a
/// runtime. Returns the status and the (raw, possibly chunked) body.
pub(crate) fn http_get(
    addr: SocketAddr,
    path: &str,
    timeout: Duration,
) -> io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not an HTTP response: {}", truncate(&text, 200)),
            )
        })?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn tail(path: &Path, lines: usize) -> String {
    tail_from(path, 0, lines)
}

fn tail_from(path: &Path, offset: u64, lines: usize) -> String {
    let Ok(mut file) = File::open(path) else {
        return format!("(no log at {})", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    // Read at most the last 256 KiB after `offset`.
    let start = offset.max(len.saturating_sub(256 * 1024));
    let mut buf = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut buf).is_err() {
        return format!("(cannot read {})", path.display());
    }
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let vars = effective_vars(
            &[("PDP_URL", "http://x:1/d"), ("EXTRA", "1")],
            "http://127.0.0.1:9",
        );
        let get = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
        for name in SETTINGS {
            assert!(get(name).is_some(), "{name} always passed");
        }
        assert_eq!(get("WEBHOOK_ALLOW_PRIVATE"), Some("true"));
        assert_eq!(get("DEV_MODE"), Some("true"));
        assert_eq!(get("EVENTS_BASE_URL"), Some("http://127.0.0.1:9"));
        assert_eq!(get("ALTINN_JWKS"), Some(""));
        assert_eq!(get("PDP_URL"), Some("http://x:1/d"));
        assert_eq!(get("EXTRA"), Some("1"));
    }
}
