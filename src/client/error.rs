//! The client's error type: every way a call can fail, classified as `docs/api-notes.md`
//! ("What the client concludes from failures") decides, so callers can match on it.
//!
//! This module only names and describes failures; deciding *which* class an answer belongs
//! to lives in `response` (servlet answers) and `retry` (transport failures). Messages never
//! contain a URL with its query string or any secret: whoever builds an error redacts first.

use std::time::Duration;

/// One attribute the server rejected, from the array form of `details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The attribute code (`fieldCode`), as the server sent it; empty when it sent none.
    pub code: String,
    /// The server's words (`errorMessage`), e.g. `This value is already in use`.
    pub message: String,
}

impl FieldError {
    /// The document's duplicate-value message.
    pub const DUPLICATE: &'static str = "This value is already in use";

    pub fn is_duplicate(&self) -> bool {
        self.message.trim().eq_ignore_ascii_case(Self::DUPLICATE)
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.code.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

fn list(fields: &[FieldError]) -> String {
    fields
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a call failed. See [`ApiError::is_fatal`] and [`ApiError::in_doubt`] for what a caller
/// should do next.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    /// Bad API key, unknown user, or REST credentials refused. Fatal for the run.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The user lacks a CRM right. Fatal for the run.
    #[error("permission denied: {message}")]
    Permission {
        /// The server's words, e.g. `To access this resource user need "Edit companies" permissions.`
        message: String,
        /// The right named in the message (`Edit companies`), when it names one.
        right: Option<String>,
    },
    /// `entry can not be found!` (or a REST 404): the entry, table or dictionary does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Every rejected attribute holds a value another entry already uses.
    #[error("duplicate value: {}", list(.fields))]
    Duplicate { fields: Vec<FieldError> },
    /// The server rejected attribute values (per row).
    #[error("invalid values: {}", list(.fields))]
    Field { fields: Vec<FieldError> },
    /// `… parameters are required!`: the client sent an incomplete call (a bug in us).
    #[error("the server says parameters are missing (a bug in crm-bulk): {0}")]
    MissingParams(String),
    /// The server kept answering `429` after the client's throttling budget was spent.
    #[error("the server is throttling requests (Retry-After: {})", fmt_retry_after(.retry_after))]
    Throttled { retry_after: Option<Duration> },
    /// A 5xx answer, a connection failure or a timeout. `in_doubt`: the request was sent and
    /// no answer came (or a 5xx came) for a write, so the server may have applied it.
    #[error("{}: {message}", if *.in_doubt { "no answer to a write, it may or may not have been applied" } else { "temporary failure" })]
    Transient { message: String, in_doubt: bool },
    /// The server does not know a command (`only sync, getcompanies, … commands allowed`).
    #[error("the server does not support command {command}: {message}")]
    Unsupported { command: String, message: String },
    /// `success: false` with a message this client does not classify. Per row, not fatal.
    #[error("rejected by the server: {0}")]
    Rejected(String),
    /// An answer that is not what the API document describes (not JSON, wrong shape, a
    /// redirect, an unexpected status).
    #[error("unexpected answer from the server: {0}")]
    Protocol(String),
    /// The client could not be set up (bad URL, unreadable CA certificate, ...).
    #[error("client configuration: {0}")]
    Config(String),
}

fn fmt_retry_after(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!("{}s", d.as_secs_f64()),
        None => "not given".into(),
    }
}

impl ApiError {
    /// Whether the whole run should stop: credentials, rights, a server that does not speak
    /// this API, or a bug in the client. Per-row failures (not found, duplicate, field
    /// errors, transient, rejected) are not fatal.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ApiError::Auth(_)
                | ApiError::Permission { .. }
                | ApiError::MissingParams(_)
                | ApiError::Unsupported { .. }
                | ApiError::Protocol(_)
                | ApiError::Config(_)
        )
    }

    /// Whether the server may have applied the call: a write sent with no (or a 5xx) answer.
    /// The caller must verify (look the entry up) before sending it again.
    pub fn in_doubt(&self) -> bool {
        matches!(self, ApiError::Transient { in_doubt: true, .. })
    }

    /// Whether repeating the same call later may succeed and cannot do harm.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ApiError::Throttled { .. }
                | ApiError::Transient {
                    in_doubt: false,
                    ..
                }
        )
    }

    /// The field errors of a duplicate or field error, else empty.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            ApiError::Duplicate { fields } | ApiError::Field { fields } => fields,
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_know_what_callers_must_do() {
        let in_doubt = ApiError::Transient {
            message: "closed".into(),
            in_doubt: true,
        };
        assert!(in_doubt.in_doubt() && !in_doubt.is_retryable() && !in_doubt.is_fatal());
        let not_sent = ApiError::Transient {
            message: "refused".into(),
            in_doubt: false,
        };
        assert!(!not_sent.in_doubt() && not_sent.is_retryable());
        assert!(ApiError::Auth("Invalid apikey!".into()).is_fatal());
        assert!(!ApiError::NotFound("entry can not be found!".into()).is_fatal());
        let dup = ApiError::Duplicate {
            fields: vec![FieldError {
                code: "org_name".into(),
                message: FieldError::DUPLICATE.into(),
            }],
        };
        assert_eq!(
            dup.to_string(),
            "duplicate value: org_name: This value is already in use"
        );
        assert!(in_doubt
            .to_string()
            .contains("may or may not have been applied"));
    }
}
