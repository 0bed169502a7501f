//! The retry policy: which failed attempts may be repeated, and how long to wait first.
//!
//! Reads and attempts known not to have reached the server are repeated with bounded
//! exponential backoff and jitter (`--max-retries`). `429` answers are always safe to
//! repeat (nothing ran) and have their own, larger budget, because throttling should slow a
//! run down, not fail its rows. A write that was sent and got no answer or a 5xx is *never*
//! repeated here: it comes back as `Transient { in_doubt: true }` for the caller to verify.
//! This module decides; it neither sends nor sleeps.

use std::time::Duration;

use rand::Rng;

use super::error::ApiError;

/// Whether a call only reads (safe to repeat) or may change data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    Read,
    Write,
}

/// How one attempt failed, before classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `429` (or the throttle message): nothing ran.
    Throttled { retry_after: Option<Duration> },
    /// The request never reached the server (connect refused, DNS, TLS, connect timeout).
    NotSent(String),
    /// A `5xx` answer.
    ServerError(String),
    /// Sent, then the connection closed or timed out without an answer.
    NoAnswer(String),
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Try again after waiting this long (on top of the pacer's own waits).
    Retry(Duration),
    /// Stop and hand this error to the caller.
    Fail(ApiError),
}

/// The retry settings.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Repeats of a transient failure (`--max-retries`).
    pub max_retries: u32,
    /// Repeats after `429` answers; separate because throttling is expected under load.
    pub max_throttled: u32,
    /// The first backoff ceiling; doubles with each attempt.
    pub base_delay: Duration,
    /// The largest backoff ceiling.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            max_throttled: 50,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// When a server sends `429` without `Retry-After`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

impl RetryPolicy {
    /// Decides after a failure. `retries` counts transient repeats so far, `throttles` the
    /// `429`s so far, both for this call.
    pub fn decide(
        &self,
        kind: CallKind,
        failure: Failure,
        retries: u32,
        throttles: u32,
    ) -> Decision {
        let transient = |message: String| {
            if retries >= self.max_retries {
                Decision::Fail(ApiError::Transient {
                    message: format!("{message} (gave up after {retries} retries)"),
                    in_doubt: false,
                })
            } else {
                Decision::Retry(self.backoff(retries))
            }
        };
        match (failure, kind) {
            (Failure::Throttled { retry_after }, _) => {
                if throttles >= self.max_throttled {
                    Decision::Fail(ApiError::Throttled { retry_after })
                } else {
                    // The pacer holds every worker until Retry-After; no extra wait here.
                    Decision::Retry(Duration::ZERO)
                }
            }
            (Failure::NotSent(message), _) => transient(message),
            (Failure::ServerError(message) | Failure::NoAnswer(message), CallKind::Read) => {
                transient(message)
            }
            (Failure::ServerError(message) | Failure::NoAnswer(message), CallKind::Write) => {
                Decision::Fail(ApiError::Transient {
                    message,
                    in_doubt: true,
                })
            }
        }
    }

    /// Jittered: a random wait between half and all of `base * 2^attempt` (capped at
    /// `max_delay`), so workers that failed together do not come back together.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(16)))
            .min(self.max_delay);
        if ceiling.is_zero() {
            return ceiling;
        }
        let nanos =
            rand::thread_rng().gen_range(ceiling.as_nanos() as u64 / 2..=ceiling.as_nanos() as u64);
        Duration::from_nanos(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            max_throttled: 4,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn reads_retry_until_the_budget_is_spent() {
        let p = policy();
        for retries in 0..3 {
            assert!(matches!(
                p.decide(
                    CallKind::Read,
                    Failure::ServerError("500".into()),
                    retries,
                    0
                ),
                Decision::Retry(_)
            ));
        }
        match p.decide(CallKind::Read, Failure::NoAnswer("closed".into()), 3, 0) {
            Decision::Fail(ApiError::Transient {
                in_doubt: false,
                message,
            }) => assert!(message.contains("3 retries")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn writes_in_doubt_are_handed_back_at_once() {
        let p = policy();
        for failure in [
            Failure::ServerError("500".into()),
            Failure::NoAnswer("closed".into()),
        ] {
            assert!(matches!(
                p.decide(CallKind::Write, failure, 0, 0),
                Decision::Fail(ApiError::Transient { in_doubt: true, .. })
            ));
        }
    }

    #[test]
    fn writes_not_sent_are_retried() {
        let p = policy();
        assert!(matches!(
            p.decide(CallKind::Write, Failure::NotSent("refused".into()), 0, 0),
            Decision::Retry(_)
        ));
        assert!(matches!(
            p.decide(CallKind::Write, Failure::NotSent("refused".into()), 3, 0),
            Decision::Fail(ApiError::Transient {
                in_doubt: false,
                ..
            })
        ));
    }

    #[test]
    fn throttling_has_its_own_budget() {
        let p = policy();
        let t = || Failure::Throttled {
            retry_after: Some(Duration::from_secs(1)),
        };
        assert_eq!(
            p.decide(CallKind::Write, t(), 3, 3),
            Decision::Retry(Duration::ZERO)
        );
        assert!(matches!(
            p.decide(CallKind::Read, t(), 0, 4),
            Decision::Fail(ApiError::Throttled { .. })
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            ..policy()
        };
        for attempt in 0..20 {
            let d = p.backoff(attempt);
            let ceiling =
                Duration::from_millis(100 * 2u64.pow(attempt.min(10))).min(Duration::from_secs(1));
            assert!(d <= ceiling && d >= ceiling / 2, "attempt {attempt}: {d:?}");
        }
    }
}
