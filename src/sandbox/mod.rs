//! A faithful local server of the CRM for Jira remote API: the servlet commands, the two REST
//! schema endpoints, a SQLite store, rate limiting and injected faults, following
//! `docs/api-notes.md`. Users rehearse migrations on it (`crm-bulk sandbox`); every test of
//! ours and `import --sandbox` start it in-process on `127.0.0.1:0`.
//!
//! This module owns the library API ([`SandboxConfig`], [`Sandbox`]); the server runs on its
//! own thread with its own tokio runtime so callers need no runtime of their own. It must
//! not depend on the client: the two only meet through the wire and the API notes.

mod commands;
mod entries;
mod faults;
mod rest;
mod server;
mod servlet;
mod stats;
mod store;
mod values;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

pub use faults::{FaultSpec, FaultSpecError};
pub use stats::Stats;

use crate::schema::Schema;
use crate::secret::Secret;

/// How to run a sandbox. `Default` gives an in-memory store on a free local port.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The SQLite file; `None` keeps everything in memory.
    pub db: Option<PathBuf>,
    pub api_key: Secret,
    /// The full-rights user; `viewer` is built in and read-only.
    pub user: String,
    /// The REST credential: Bearer token, or Basic `user:token`.
    pub token: Secret,
    pub schema: Schema,
    /// Servlet requests per second (bursts of as many); over it, `429` with `Retry-After`.
    pub rate_limit: Option<u32>,
    /// Added before every answer.
    pub latency: Duration,
    pub faults: FaultSpec,
    /// Seeds the fault generator.
    pub seed: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            db: None,
            api_key: Secret::new("sandbox-key"),
            user: "admin".into(),
            token: Secret::new("sandbox-token"),
            schema: Schema::default_sandbox(),
            rate_limit: None,
            latency: Duration::ZERO,
            faults: FaultSpec::default(),
            seed: 0,
        }
    }
}

/// A running sandbox. Dropping it (or [`Sandbox::shutdown`]) stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    app: Arc<server::App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sandbox {
    /// Opens the store, binds the address and returns once connections are accepted.
    pub fn start(config: SandboxConfig) -> anyhow::Result<Sandbox> {
        let store = store::Store::open(config.db.as_deref(), &config.schema).with_context(
            || match &config.db {
                Some(path) => format!("cannot open the sandbox database {}", path.display()),
                None => "cannot open the in-memory sandbox database".into(),
            },
        )?;
        let listener = std::net::TcpListener::bind(config.listen)
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = Arc::new(server::App {
            store,
            users: servlet::Users {
                api_key: config.api_key.clone(),
                admin: config.user.clone(),
            },
            rest_auth: rest::RestAuth {
                token: config.token.clone(),
                admin: config.user.clone(),
            },
            schema: config.schema,
            counters: stats::Counters::new(),
            rate: faults::RateGate::new(config.rate_limit),
            faults: faults::FaultDraw::new(config.faults, config.seed),
            latency: config.latency,
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("crm-sandbox")
            .enable_all()
            .build()
            .context("cannot start the sandbox runtime")?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = server::router(app.clone());
        // Converting the listener needs the runtime's reactor, so it happens inside it.
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener)?
        };
        let thread = std::thread::Builder::new()
            .name("crm-sandbox".into())
            .spawn(move || {
                runtime.block_on(server::serve(listener, router, async {
                    let _ = stopped.await;
                }));
                // Open connections end with the runtime.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        Ok(Sandbox {
            addr,
            app,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Jira base URL, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request counters, as `GET /__sandbox/stats` shows them.
    pub fn stats(&self) -> Stats {
        self.app.counters.snapshot()
    }

    /// Stops accepting, closes open connections and waits for the server thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_now();
    }
}
