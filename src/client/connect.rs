//! Turns the connection options (`--url`/`CRM_URL`, `--user`/`CRM_USER`, the key and token
//! from the environment or files, `--sandbox`) into a ready [`Client`].
//!
//! Secrets are never command-line arguments. With `--sandbox` the embedded sandbox starts
//! in-process on 127.0.0.1 with a fresh random key and token, and the [`Connection`] keeps it
//! alive. Without a URL and without `--sandbox` this stops with an explanation: a nightly job
//! that lost its environment must fail loudly, never load into a local file.

use std::num::NonZeroU32;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use rand::distributions::{Alphanumeric, DistString};

use super::config::{ClientConfig, RestAuth};
use super::retry::RetryPolicy;
use super::Client;
use crate::cli::ConnectArgs;
use crate::sandbox::{Sandbox, SandboxConfig};
use crate::secret::Secret;

/// A client and, with `--sandbox`, the embedded server it talks to.
pub struct Connection {
    pub client: Client,
    /// Where the client points, for messages: the base URL (no secret), or
    /// `embedded sandbox (<db path>)`.
    pub target: String,
    sandbox: Option<Sandbox>,
}

impl Connection {
    /// The embedded sandbox, when `--sandbox` started one.
    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.sandbox.as_ref()
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("client", &self.client)
            .field("target", &self.target)
            .finish()
    }
}

/// The message for a command run with neither a URL nor `--sandbox`.
pub const NO_TARGET: &str = "no CRM to connect to: set the Jira base URL with --url or the CRM_URL \
environment variable (with CRM_USER and CRM_API_KEY), or pass --sandbox to use the embedded local sandbox";

/// Connects as the options say. Works inside or outside a tokio runtime (the embedded
/// sandbox runs on its own thread with its own runtime).
pub fn connect(args: &ConnectArgs) -> anyhow::Result<Connection> {
    if args.sandbox {
        return connect_sandbox(args);
    }
    let Some(url) = args.url.as_deref().filter(|u| !u.trim().is_empty()) else {
        bail!(NO_TARGET);
    };
    let user = args
        .user
        .clone()
        .filter(|u| !u.trim().is_empty())
        .context("no CRM user: set --user or the CRM_USER environment variable")?;
    let api_key = api_key(args)?;
    let rest_auth = rest_auth(args, &user)?;
    if args.insecure {
        let warning = "WARNING: --insecure: TLS certificates are NOT checked; anyone on the network path can read the API key. Use only against a test instance.";
        eprintln!("{warning}");
        tracing::warn!("{warning}");
    }
    let mut config = settings(args, url, &user, api_key);
    config.rest_auth = rest_auth;
    let client = Client::new(config)?;
    Ok(Connection {
        target: client.base_url().to_string(),
        client,
        sandbox: None,
    })
}

fn connect_sandbox(args: &ConnectArgs) -> anyhow::Result<Connection> {
    let key = Secret::new(random_secret());
    let token = Secret::new(random_secret());
    let user = "admin".to_string();
    let sandbox = Sandbox::start(SandboxConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        db: Some(args.sandbox_db.clone()),
        api_key: key.clone(),
        user: user.clone(),
        token: token.clone(),
        ..SandboxConfig::default()
    })
    .with_context(|| {
        format!(
            "starting the embedded sandbox on {}",
            args.sandbox_db.display()
        )
    })?;
    let mut config = settings(args, &sandbox.base_url(), &user, key);
    config.rest_auth = RestAuth::Bearer(token);
    let client = Client::new(config)?;
    let target = format!("embedded sandbox ({})", args.sandbox_db.display());
    Ok(Connection {
        client,
        target,
        sandbox: Some(sandbox),
    })
}

fn settings(args: &ConnectArgs, url: &str, user: &str, api_key: Secret) -> ClientConfig {
    let mut config = ClientConfig::new(url, user, api_key);
    config.rate = NonZeroU32::new(args.rate).unwrap_or(NonZeroU32::MIN);
    config.retry = RetryPolicy {
        max_retries: args.max_retries,
        ..RetryPolicy::default()
    };
    config.timeout = Duration::from_secs(args.timeout.max(1));
    config.connect_timeout = Duration::from_secs(args.connect_timeout.max(1));
    config.ca_cert = args.ca_cert.clone();
    config.insecure = args.insecure;
    config
}

/// The API key: `--api-key-file` if given, else `CRM_API_KEY`.
fn api_key(args: &ConnectArgs) -> anyhow::Result<Secret> {
    if let Some(path) = &args.api_key_file {
        return read_secret(path, "API key");
    }
    match std::env::var("CRM_API_KEY") {
        Ok(key) if !key.trim().is_empty() => Ok(Secret::new(key.trim())),
        _ => bail!(
            "no CRM API key: set the CRM_API_KEY environment variable or pass --api-key-file FILE \
             (CRM Administration → Integrations → Access API)"
        ),
    }
}

/// The REST credential: `--password-file` (Basic), `--token-file` (Bearer), else
/// `CRM_TOKEN` (Bearer), else none (REST calls then explain what to set).
fn rest_auth(args: &ConnectArgs, user: &str) -> anyhow::Result<RestAuth> {
    if let Some(path) = &args.password_file {
        let password = read_secret(path, "Jira password")?;
        return Ok(RestAuth::Basic {
            user: user.to_string(),
            password,
        });
    }
    if let Some(path) = &args.token_file {
        return Ok(RestAuth::Bearer(read_secret(path, "Jira token")?));
    }
    Ok(match std::env::var("CRM_TOKEN") {
        Ok(token) if !token.trim().is_empty() => RestAuth::Bearer(Secret::new(token.trim())),
        _ => RestAuth::None,
    })
}

fn read_secret(path: &Path, what: &str) -> anyhow::Result<Secret> {
    let secret = Secret::from_file(path)
        .with_context(|| format!("reading the {what} from {}", path.display()))?;
    if secret.expose().trim().is_empty() {
        bail!("the {what} file {} is empty", path.display());
    }
    Ok(Secret::new(secret.expose().trim()))
}

fn random_secret() -> String {
    Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
}
