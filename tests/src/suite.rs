//! [`Suite`]: many async end-to-end tests in one test binary, sharing ONE `wrangler dev`.
//!
//! Use it from a `[[test]]` with `harness = false`:
//!
//! ```no_run
//! use altinn_events_tests::{Suite, TestServer};
//!
//! fn main() -> std::process::ExitCode {
//!     let mut suite = Suite::new();
//!     suite.test("health", |ctx| async move {
//!         ctx.client().get("/health").send().await.assert_status(200);
//!     });
//!     // A test that needs its own server (other settings, a restart) starts one itself:
//!     suite.standalone("own_server", || async {
//!         let server = TestServer::start(&[("DELIVERY_RETRY_DELAYS", "1,1")]);
//!         server.client().get("/health").send().await.assert_status(200);
//!     });
//!     suite.run()
//! }
//! ```
//!
//! The shared server starts lazily, when the first test that uses it runs (so `--list` or a filter
//! that selects only standalone tests starts nothing), and is stopped after all tests, before the
//! process exits. If it fails to start, every test that needs it fails with wrangler's log tail.
//! Each test runs on its own current-thread tokio runtime; tests run in parallel threads
//! (`--test-threads=N` as usual), so tests sharing the server must use their own resources
//! (distinct resource ids, receivers, parties).

use std::future::Future;
use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use libtest_mimic::{Arguments, Failed, Trial};

use crate::client::TestClient;
use crate::server::TestServer;

/// What a shared-server test gets.
#[derive(Debug, Clone)]
pub struct Ctx {
    server: Arc<TestServer>,
}

impl Ctx {
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    pub fn client(&self) -> TestClient {
        self.server.client()
    }

    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }
}

type SharedSlot = OnceLock<Result<Arc<TestServer>, String>>;

struct Shared {
    vars: Vec<(String, String)>,
    slot: SharedSlot,
}

impl Shared {
    fn get(&self) -> Result<Arc<TestServer>, String> {
        self.slot
            .get_or_init(|| {
                let vars: Vec<(&str, &str)> = self
                    .vars
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str()))
                    .collect();
                let dir = crate::server::new_state_dir();
                match TestServer::try_start_with_state(dir, &vars) {
                    Ok(server) => {
                        eprintln!(
                            "shared server {} ready in {:.1} s (state {})",
                            server.base_url(),
                            server.startup_time().as_secs_f64(),
                            server.state_dir().display()
                        );
                        Ok(Arc::new(server))
                    }
                    Err(err) => Err(err.to_string()),
                }
            })
            .clone()
    }
}

/// A list of tests plus the settings of the shared server.
pub struct Suite {
    shared: Arc<Shared>,
    trials: Vec<Trial>,
}

impl Default for Suite {
    fn default() -> Self {
        Self::new()
    }
}

impl Suite {
    /// Shared server with the harness defaults.
    pub fn new() -> Suite {
        Self::with_vars(&[])
    }

    /// Shared server with these `--var` overrides.
    pub fn with_vars(vars: &[(&str, &str)]) -> Suite {
        Suite {
            shared: Arc::new(Shared {
                vars: vars
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
                slot: OnceLock::new(),
            }),
            trials: Vec::new(),
        }
    }

    /// A test against the shared server.
    pub fn test<F, Fut>(&mut self, name: &str, test: F) -> &mut Self
    where
        F: FnOnce(Ctx) -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        let shared = Arc::clone(&self.shared);
        self.trials.push(Trial::test(name, move || {
            let server = shared
                .get()
                .map_err(|err| Failed::from(format!("shared server did not start: {err}")))?;
            block_on(test(Ctx { server }))
        }));
        self
    }

    /// A test that does not use the shared server (it may start its own).
    pub fn standalone<F, Fut>(&mut self, name: &str, test: F) -> &mut Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()>,
    {
        self.trials
            .push(Trial::test(name, move || block_on(test())));
        self
    }

    /// Any libtest-mimic trial.
    pub fn trial(&mut self, trial: Trial) -> &mut Self {
        self.trials.push(trial);
        self
    }

    /// Parses the command line (filters, `--test-threads`, `--list`, ...), runs the tests, stops
    /// the shared server and returns the exit code.
    pub fn run(self) -> ExitCode {
        let args = Arguments::from_args();
        let Suite { shared, trials } = self;
        let conclusion = libtest_mimic::run(&args, trials);
        // Stop the shared server even if a test leaked a handle to it.
        if let Some(Ok(server)) = shared.slot.get() {
            server.shutdown();
        }
        conclusion.exit_code()
    }
}

fn block_on<Fut: Future<Output = ()>>(future: Fut) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failed::from(format!("cannot build a tokio runtime: {err}")))?;
    runtime.block_on(future);
    Ok(())
}
