//! The client's settings and the HTTP client built from them: rustls TLS (plus an optional
//! private CA, or `--insecure`), connect and request timeouts, a connection pool reused by
//! every call, and no redirects (a redirect would carry the API key to another address).
//!
//! Settings arrive already validated as types; reading them from the command line and the
//! environment is `connect`'s job.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use super::error::ApiError;
use super::retry::RetryPolicy;
use crate::secret::{redact_text, Secret};

/// Credentials for the Jira REST endpoints (fieldsList, getNomDetails).
#[derive(Debug, Clone)]
pub enum RestAuth {
    /// None configured: REST calls fail with an explanation.
    None,
    /// `Authorization: Bearer <personal access token>`.
    Bearer(Secret),
    /// HTTP Basic with the Jira user and a password (or token).
    Basic { user: String, password: Secret },
}

/// Everything needed to build a [`super::Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The Jira base URL (`https://jira.example.com`, `http://127.0.0.1:PORT`), without the
    /// servlet path. A trailing `/` is ignored.
    pub base_url: String,
    /// The Jira user whose CRM rights the servlet calls use (`userName`).
    pub user: String,
    pub api_key: Secret,
    pub rest_auth: RestAuth,
    /// Requests per second for all clones together.
    pub rate: NonZeroU32,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// An extra CA certificate (PEM) to trust.
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate (the caller warns loudly).
    pub insecure: bool,
}

impl ClientConfig {
    /// Settings with the defaults of the command line (`--rate 10`, 5 retries, 30 s / 10 s
    /// timeouts) and no REST credentials.
    pub fn new(
        base_url: impl Into<String>,
        user: impl Into<String>,
        api_key: Secret,
    ) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            user: user.into(),
            api_key,
            rest_auth: RestAuth::None,
            rate: NonZeroU32::new(10).expect("10 is not zero"),
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            ca_cert: None,
            insecure: false,
        }
    }
}

/// Checks and normalises the base URL: http or https, no query, no trailing slash.
pub fn base_url(raw: &str) -> Result<String, ApiError> {
    let shown = redact_text(raw);
    let url = url::Url::parse(raw.trim()).map_err(|e| {
        ApiError::Config(format!(
            "the CRM URL \"{shown}\" is not a URL ({e}); expected e.g. https://jira.example.com"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ApiError::Config(format!(
            "the CRM URL \"{shown}\" must start with http:// or https://"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ApiError::Config(format!(
            "the CRM URL \"{shown}\" must be the Jira base URL, without a query string"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ApiError::Config(
            "the CRM URL must not hold credentials; use CRM_USER and CRM_API_KEY".into(),
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Builds the shared HTTP client.
pub fn http_client(config: &ClientConfig) -> Result<reqwest::Client, ApiError> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(config.timeout)
        .connect_timeout(config.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("crm-bulk/", env!("CARGO_PKG_VERSION")));
    if let Some(path) = &config.ca_cert {
        let pem = std::fs::read(path).map_err(|e| {
            ApiError::Config(format!(
                "cannot read the CA certificate {}: {e}",
                path.display()
            ))
        })?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
            ApiError::Config(format!(
                "{} is not a PEM certificate: {}",
                path.display(),
                e.without_url()
            ))
        })?;
        if certs.is_empty() {
            return Err(ApiError::Config(format!(
                "{} holds no PEM certificate",
                path.display()
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if config.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder
        .build()
        .map_err(|e| ApiError::Config(format!("cannot set up HTTPS: {}", e.without_url())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised_and_checked() {
        assert_eq!(
            base_url("https://jira.example.com/").unwrap(),
            "https://jira.example.com"
        );
        assert_eq!(
            base_url("http://127.0.0.1:8080/jira/").unwrap(),
            "http://127.0.0.1:8080/jira"
        );
        assert!(base_url("jira.example.com").is_err());
        assert!(base_url("ftp://jira").is_err());
        let err = base_url("https://x/?apiKey=SEKRET")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("SEKRET"), "{err}");
        assert!(base_url("https://bob:pw@x/").is_err());
    }

    #[test]
    fn a_missing_ca_file_is_a_config_error() {
        let mut config = ClientConfig::new("https://x", "admin", Secret::new("k"));
        config.ca_cert = Some("/nonexistent/ca.pem".into());
        assert!(matches!(http_client(&config), Err(ApiError::Config(_))));
    }
}
