//! Secrets (the API key, the Jira token or password) and URL redaction.
//!
//! A [`Secret`] never prints its value: `Debug` and `Display` show `(redacted)`. The only way
//! to read it is [`Secret::expose`], used where it goes on the wire. Every URL that may carry
//! the key is passed through [`redact_url`] (or [`redact_text`] for messages that embed one,
//! such as reqwest's errors) before it reaches an error, a log line or a report.

use std::fmt;

/// A secret string. Cloning is allowed; printing is not.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the wire only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads a secret from a file, trimming the trailing newline editors add.
    pub fn from_file(path: &std::path::Path) -> std::io::Result<Self> {
        let text = std::fs::read_to_string(path)?;
        Ok(Secret(text.trim_end_matches(['\r', '\n']).to_string()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// Query parameters whose values are never shown.
const SECRET_PARAMS: &[&str] = &["apikey", "token", "password", "access_token"];

/// Redacts secret query parameters and userinfo passwords from a URL.
pub fn redact_url(url: &str) -> String {
    redact_text(url)
}

/// Redacts every `apiKey=...` (and similar) occurrence and `user:password@` userinfo in free
/// text, such as an error message that embeds a URL.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        let mut matched = None;
        if i == 0 || matches!(bytes[i - 1], b'?' | b'&' | b' ' | b'(' | b'"' | b'\'') {
            for p in SECRET_PARAMS {
                if lower[i..].starts_with(p) && lower[i + p.len()..].starts_with('=') {
                    matched = Some(p.len() + 1);
                    break;
                }
            }
        }
        if let Some(n) = matched {
            out.push_str(&text[i..i + n]);
            out.push_str("(redacted)");
            i += n;
            while i < text.len() && !matches!(bytes[i], b'&' | b' ' | b')' | b'"' | b'\'' | b'#') {
                i += 1;
            }
            continue;
        }
        // userinfo: scheme://user:password@host
        if lower[i..].starts_with("://") {
            out.push_str("://");
            i += 3;
            let rest = &text[i..];
            let end = rest.find(['/', ' ', '"']).unwrap_or(rest.len());
            if let Some(at) = rest[..end].rfind('@') {
                if let Some(colon) = rest[..at].find(':') {
                    out.push_str(&rest[..colon]);
                    out.push_str(":(redacted)");
                    i += at;
                }
            }
            continue;
        }
        let ch = text[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("hunter2-key");
        assert_eq!(format!("{s:?} {s}"), "(redacted) (redacted)");
        assert_eq!(s.expose(), "hunter2-key");
    }

    #[test]
    fn urls_lose_their_key() {
        let u = "http://127.0.0.1:9/plugins/servlet/crm/api?apiKey=SEKRET&userName=admin&command=getcompanies";
        let r = redact_url(u);
        assert!(!r.contains("SEKRET"), "{r}");
        assert!(r.contains("apiKey=(redacted)&userName=admin"), "{r}");
    }

    #[test]
    fn errors_embedding_urls_are_redacted() {
        let e = "error sending request for url (http://x/api?command=a&apikey=K1) token=T2 https://bob:pw@host/x";
        let r = redact_text(e);
        assert!(
            !r.contains("K1") && !r.contains("T2") && !r.contains(":pw@"),
            "{r}"
        );
    }
}
