//! `crm-bulk sandbox`: runs the local CRM for Jira API server until Ctrl-C.
//!
//! Turns the command line into a [`SandboxConfig`], starts the library server and announces
//! its address; the server itself lives in `crate::sandbox`. The API key and token are never
//! printed.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::cmd::UsageError;
use crate::exit::Exit;
use crate::sandbox::{FaultSpec, Sandbox, SandboxConfig};
use crate::schema::Schema;
use crate::secret::Secret;

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// SQLite file that keeps the data across restarts (":memory:" for none).
    #[arg(long, value_name = "PATH", default_value = "crm-sandbox.db")]
    pub db: String,
    /// The API key callers must send.
    #[arg(
        long,
        value_name = "KEY",
        env = "CRM_SANDBOX_API_KEY",
        default_value = "sandbox-key",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub api_key: String,
    /// The full-rights user (the read-only user "viewer" is built in).
    #[arg(long, value_name = "NAME", default_value = "admin")]
    pub user: String,
    /// The REST credential: Bearer token, or the password of Basic authentication.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "CRM_SANDBOX_TOKEN",
        default_value = "sandbox-token",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub token: String,
    /// A schema JSON file replacing the default tables and dictionaries.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Servlet requests per second; over it, HTTP 429 with Retry-After.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Milliseconds added before every answer.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub latency_ms: u64,
    /// Injected faults, e.g. error=0.05,reset=0.02,drop-after-commit=0.01,throttle=0.05
    #[arg(long, value_name = "SPEC", default_value = "")]
    pub faults: String,
    /// Seed of the fault generator (same seed, same faults).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
}

impl SandboxArgs {
    /// The validated configuration.
    pub fn config(&self) -> anyhow::Result<SandboxConfig> {
        let faults =
            FaultSpec::parse(&self.faults).map_err(|e| UsageError(format!("--faults: {e}")))?;
        let schema = match &self.schema {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read the schema file {}", path.display()))?;
                Schema::from_json(&text)
                    .with_context(|| format!("{}: not a crm-bulk schema file", path.display()))?
            }
            None => Schema::default_sandbox(),
        };
        Ok(SandboxConfig {
            listen: self.listen,
            db: (self.db != ":memory:").then(|| PathBuf::from(&self.db)),
            api_key: Secret::new(self.api_key.clone()),
            user: self.user.clone(),
            token: Secret::new(self.token.clone()),
            schema,
            rate_limit: self.rate_limit.filter(|n| *n > 0),
            latency: Duration::from_millis(self.latency_ms),
            faults,
            seed: self.seed,
        })
    }
}

pub fn run(args: SandboxArgs) -> anyhow::Result<Exit> {
    let sandbox = Sandbox::start(args.config()?)?;
    println!("listening on {}", sandbox.base_url());
    use std::io::Write;
    std::io::stdout().flush()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot wait for Ctrl-C")?;
    runtime
        .block_on(tokio::signal::ctrl_c())
        .context("cannot wait for Ctrl-C")?;
    sandbox.shutdown();
    Ok(Exit::Success)
}
