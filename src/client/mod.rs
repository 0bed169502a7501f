//! The CRM API client: the only code that talks to a CRM. Everything else asks it.
//!
//! A [`Client`] is cheap to clone (one `Arc`); all clones share one HTTP connection pool,
//! one rate limiter ([`pacing`]) and one set of counters. Every call goes through one loop
//! here: wait for the pacer, send, classify the answer ([`response`]) or the transport
//! failure, and ask the [`retry`] policy whether to try again. The typed methods for each
//! servlet command and REST endpoint live in `commands`; table-level operations (list, find,
//! add, edit, upsert) that pick the right command for a table live in `ops` and [`tables`].
//! Nothing here knows about spreadsheets, and no URL leaves this module unredacted.

mod commands;
pub mod config;
pub mod connect;
pub mod error;
pub mod listing;
mod ops;
pub mod pacing;
pub mod response;
pub mod retry;
pub mod schema;
pub mod tables;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::StatusCode;
use serde_json::{Map, Value};

pub use commands::EntryRef;
pub use config::{ClientConfig, RestAuth};
pub use connect::{connect, Connection};
pub use error::{ApiError, FieldError};
pub use response::{Entry, FieldValue, TransactionRow, UpsertOutcome};
pub use retry::{CallKind, RetryPolicy};

use pacing::Pacer;
use response::shorten;
use retry::{Decision, Failure, DEFAULT_RETRY_AFTER};

use crate::secret::{redact_text, Secret};

/// Path of the servlet under the Jira base URL.
pub const SERVLET_PATH: &str = "/plugins/servlet/crm/api";

/// Characters left as they are in query values: RFC 3986 unreserved. Spaces become `%20`,
/// as in the document's examples.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A CRM API client. Clone it freely: clones share the pool, the pacer and the counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    user: String,
    api_key: Secret,
    rest_auth: RestAuth,
    pacer: Pacer,
    retry: RetryPolicy,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    write_calls: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

/// What the client has done so far (all clones together).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClientStats {
    /// API calls made (each method call counts once, however many attempts it took).
    pub calls: u64,
    /// Of those, calls that may change data.
    pub write_calls: u64,
    /// Extra attempts after a failure or a `429`. Requests sent = `calls + retries`.
    pub retries: u64,
    /// `429` answers received.
    pub throttled: u64,
}

/// One HTTP answer, read whole.
struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    location: Option<String>,
    body: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base)
            .field("user", &self.inner.user)
            .field("api_key", &self.inner.api_key)
            .finish_non_exhaustive()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ApiError> {
        let base = config::base_url(&config.base_url)?;
        if config.user.trim().is_empty() {
            return Err(ApiError::Config(
                "no CRM user: set CRM_USER or --user".into(),
            ));
        }
        if config.api_key.expose().is_empty() {
            return Err(ApiError::Config("the API key is empty".into()));
        }
        let http = config::http_client(&config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                user: config.user,
                api_key: config.api_key,
                rest_auth: config.rest_auth,
                pacer: Pacer::new(config.rate),
                retry: config.retry,
                counters: Counters::default(),
            }),
        })
    }

    /// The Jira base URL the client talks to (never holds a secret).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The user whose rights the servlet calls use.
    pub fn user(&self) -> &str {
        &self.inner.user
    }

    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            calls: c.calls.load(Ordering::Relaxed),
            write_calls: c.write_calls.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
        }
    }

    /// The pacer's current rate in requests per second (below `--rate` after throttling).
    pub fn current_rate(&self) -> f64 {
        self.inner.pacer.rate()
    }

    /// Calls one servlet command and returns its successful answer's JSON object.
    pub async fn call(
        &self,
        command: &str,
        kind: CallKind,
        params: &[(String, String)],
    ) -> Result<Map<String, Value>, ApiError> {
        let url = self.servlet_url(command, params);
        self.send(
            command,
            kind,
            || self.inner.http.get(&url),
            |answer| servlet_answer(command, answer),
        )
        .await
    }

    /// Calls a listing command and parses its answer straight into the entries under `key`
    /// (`companies`, `contacts`, `records`), never holding the whole answer as a JSON tree.
    pub async fn call_list(
        &self,
        command: &str,
        params: &[(String, String)],
        key: &str,
        table: &crate::schema::TableSchema,
    ) -> Result<Vec<Entry>, ApiError> {
        let url = self.servlet_url(command, params);
        self.send(
            command,
            CallKind::Read,
            || self.inner.http.get(&url),
            |answer| {
                if answer.status.is_success() {
                    listing::parse_list_answer(command, &answer.body, key, table)
                } else {
                    servlet_answer(command, answer)
                        .and_then(|object| response::parse_entries(&object, key, table))
                }
            },
        )
        .await
    }

    fn servlet_url(&self, command: &str, params: &[(String, String)]) -> String {
        let mut url = format!(
            "{}{SERVLET_PATH}?apiKey={}&userName={}&command={}",
            self.inner.base,
            encode(self.inner.api_key.expose()),
            encode(&self.inner.user),
            encode(command)
        );
        for (key, value) in params {
            url.push('&');
            url.push_str(&encode(key));
            url.push('=');
            url.push_str(&encode(value));
        }
        url
    }

    /// GETs a REST endpoint (path and query under the base URL) with the Jira credentials.
    async fn rest(&self, what: &str, path_and_query: &str) -> Result<Value, ApiError> {
        let url = format!("{}{path_and_query}", self.inner.base);
        let auth = self.inner.rest_auth.clone();
        if matches!(auth, RestAuth::None) {
            return Err(ApiError::Auth(format!(
                "{what} needs Jira credentials: set CRM_TOKEN (a personal access token), --token-file or --password-file"
            )));
        }
        let request = || {
            let request = self
                .inner
                .http
                .get(&url)
                .header(reqwest::header::ACCEPT, "application/json");
            match &auth {
                RestAuth::Bearer(token) => request.bearer_auth(token.expose()),
                RestAuth::Basic { user, password } => {
                    request.basic_auth(user, Some(password.expose()))
                }
                RestAuth::None => request,
            }
        };
        self.send(what, CallKind::Read, request, |answer| {
            rest_answer(what, answer)
        })
        .await
    }

    /// The one send loop: pace, send, classify, retry as the policy says.
    async fn send<T>(
        &self,
        label: &str,
        kind: CallKind,
        request: impl Fn() -> reqwest::RequestBuilder,
        interpret: impl Fn(Answer) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let counters = &self.inner.counters;
        counters.calls.fetch_add(1, Ordering::Relaxed);
        if kind == CallKind::Write {
            counters.write_calls.fetch_add(1, Ordering::Relaxed);
        }
        let (mut retries, mut throttles) = (0u32, 0u32);
        loop {
            self.inner.pacer.acquire().await;
            // -vv: one line per request, by its label only: the URL carries the API key.
            tracing::trace!(call = label, retries, throttles, "sending");
            let failure = match attempt(request()).await {
                Ok(answer) if answer.status == StatusCode::TOO_MANY_REQUESTS => {
                    Failure::Throttled {
                        retry_after: answer.retry_after,
                    }
                }
                Ok(answer) if answer.status.is_server_error() => Failure::ServerError(format!(
                    "HTTP {} from {label}: {}",
                    answer.status.as_u16(),
                    error_text(&answer.body)
                )),
                Ok(answer) => {
                    tracing::trace!(call = label, status = answer.status.as_u16(), "answered");
                    self.inner.pacer.answered();
                    match interpret(answer) {
                        Err(ApiError::Throttled { retry_after }) => {
                            Failure::Throttled { retry_after }
                        }
                        other => return other,
                    }
                }
                Err(failure) => failure,
            };
            let throttled = matches!(failure, Failure::Throttled { .. });
            if let Failure::Throttled { retry_after } = &failure {
                counters.throttled.fetch_add(1, Ordering::Relaxed);
                self.inner
                    .pacer
                    .throttled(retry_after.unwrap_or(DEFAULT_RETRY_AFTER));
            }
            let reason = format!("{failure:?}");
            match self.inner.retry.decide(kind, failure, retries, throttles) {
                Decision::Fail(err) => {
                    tracing::debug!(call = label, error = %err, "call failed");
                    return Err(err);
                }
                Decision::Retry(wait) => {
                    if throttled {
                        throttles += 1;
                    } else {
                        retries += 1;
                        // Debug, not warn: under a flaky server a nightly log would hold one
                        // line per retry; the summary counts them (`retries`).
                        tracing::debug!(
                            call = label,
                            retry = retries,
                            wait_ms = wait.as_millis() as u64,
                            reason,
                            "retrying"
                        );
                    }
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

/// Sends one request and reads the whole answer.
async fn attempt(request: reqwest::RequestBuilder) -> Result<Answer, Failure> {
    let response = request.send().await.map_err(transport_failure)?;
    let status = response.status();
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let retry_after = header(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let location = header(reqwest::header::LOCATION).map(|l| redact_text(&l));
    let charset = header(reqwest::header::CONTENT_TYPE).and_then(|t| charset_of(&t));
    let body = read_body(response, charset.as_deref()).await?;
    Ok(Answer {
        status,
        retry_after,
        location,
        body,
    })
}

/// Reads the whole body into one buffer (sized by Content-Length) and decodes it as
/// `reqwest::Response::text` does (the charset of Content-Type, else UTF-8, lossy), without
/// the second copy that `text` makes: a list answer can be 100 MB.
async fn read_body(
    mut response: reqwest::Response,
    charset: Option<&str>,
) -> Result<String, Failure> {
    const MAX_PREALLOCATED: u64 = 256 << 20;
    let capacity = response.content_length().unwrap_or(0).min(MAX_PREALLOCATED);
    let mut bytes = Vec::with_capacity(capacity as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Failure::NoAnswer(describe(e)))?
    {
        bytes.extend_from_slice(&chunk);
    }
    // A byte-order mark wins over the header, as in `text`.
    let encoding = match encoding_rs::Encoding::for_bom(&bytes) {
        Some((bom, len)) => {
            bytes.drain(..len);
            bom
        }
        None => charset
            .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
            .unwrap_or(encoding_rs::UTF_8),
    };
    if encoding == encoding_rs::UTF_8 {
        return Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()));
    }
    Ok(encoding.decode_without_bom_handling(&bytes).0.into_owned())
}

/// The `charset` parameter of a Content-Type value.
fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// A request that failed without an answer: not sent if the connection never opened, else
/// sent with no answer (in doubt for writes).
fn transport_failure(err: reqwest::Error) -> Failure {
    if err.is_connect() {
        Failure::NotSent(describe(err))
    } else {
        Failure::NoAnswer(describe(err))
    }
}

/// A reqwest error as text: its chain of causes, without the URL (which holds the key), and
/// redacted again in case a cause repeats it.
pub fn describe(err: reqwest::Error) -> String {
    let err = err.without_url();
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    redact_text(&text)
}

fn encode(value: &str) -> String {
    utf8_percent_encode(value, QUERY_VALUE).to_string()
}

/// The `details` of a JSON error body, else the body shortened.
fn error_text(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("details")
                .or_else(|| v.get("message"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| shorten(&redact_text(body), 120))
}

fn servlet_answer(command: &str, answer: Answer) -> Result<Map<String, Value>, ApiError> {
    let status = answer.status;
    if status.is_success() {
        return response::parse_answer(command, &answer.body);
    }
    if status.is_redirection() {
        return Err(ApiError::Protocol(format!(
            "the server redirected {command} (HTTP {}) to {}; set the CRM URL to the address Jira answers on",
            status.as_u16(),
            answer.location.as_deref().unwrap_or("another address")
        )));
    }
    // A JSON API error sent with an error status is still the API's own answer.
    match response::parse_answer(command, &answer.body) {
        Err(err) if !matches!(err, ApiError::Protocol(_)) => Err(err),
        _ if status == StatusCode::NOT_FOUND => Err(ApiError::Protocol(format!(
            "no CRM API at {SERVLET_PATH} (HTTP 404): is CRM for Jira installed, and is the URL the Jira base URL?"
        ))),
        _ if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => Err(ApiError::Auth(format!(
            "HTTP {} from {command}: {}",
            status.as_u16(),
            error_text(&answer.body)
        ))),
        _ => Err(ApiError::Protocol(format!("HTTP {} from {command}: {}", status.as_u16(), error_text(&answer.body)))),
    }
}

fn rest_answer(what: &str, answer: Answer) -> Result<Value, ApiError> {
    match answer.status {
        s if s.is_success() => serde_json::from_str(&answer.body).map_err(|_| {
            ApiError::Protocol(format!(
                "the answer to {what} is not JSON: {}",
                shorten(&answer.body, 120)
            ))
        }),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Err(ApiError::Auth(format!(
            "{what}: {} (check CRM_USER and CRM_TOKEN, --token-file or --password-file)",
            error_text(&answer.body)
        ))),
        StatusCode::NOT_FOUND => Err(ApiError::NotFound(format!(
            "{what}: no such table or entry (HTTP 404)"
        ))),
        s if s.is_redirection() => Err(ApiError::Protocol(format!(
            "the server redirected {what} to {}; set the CRM URL to the address Jira answers on",
            answer.location.as_deref().unwrap_or("another address")
        ))),
        s => Err(ApiError::Protocol(format!(
            "HTTP {} from {what}: {}",
            s.as_u16(),
            error_text(&answer.body)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_use_percent_twenty() {
        assert_eq!(encode("Kelly Dorn"), "Kelly%20Dorn");
        assert_eq!(encode("a&b=c+d"), "a%26b%3Dc%2Bd");
        assert_eq!(encode("Сompany"), "%D0%A1ompany");
        assert_eq!(encode("clients-org_name"), "clients-org_name");
    }

    #[test]
    fn debug_never_shows_the_key() {
        let client = Client::new(ClientConfig::new(
            "http://127.0.0.1:9",
            "admin",
            Secret::new("KEY-c0ffee-SECRET"),
        ))
        .unwrap();
        let shown = format!("{client:?}");
        assert!(
            !shown.contains("c0ffee") && shown.contains("(redacted)"),
            "{shown}"
        );
    }
}
