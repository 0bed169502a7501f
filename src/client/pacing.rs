//! Pacing: one rate limiter shared by every clone of the client, so all workers together
//! never send more than `--rate` requests per second (burst 1: never a spike above it).
//!
//! On `429` the pacer honours `Retry-After` for every worker (nobody sends before it has
//! passed), halves its rate, and climbs back towards `--rate` by a tenth of it after each
//! second's worth of answers that were not throttled. It knows nothing of what is sent or of
//! retries; it only decides *when* the next request may go.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

/// The slowest the pacer slows down to after repeated throttling: one request in four
/// seconds, so a persistently throttling server still sees progress.
const MIN_RATE: f64 = 0.25;

/// Shared request pacing. Cloning shares the limiter.
#[derive(Clone)]
pub struct Pacer {
    inner: Arc<Mutex<PaceState>>,
}

struct PaceState {
    /// The configured ceiling (`--rate`).
    ceiling: f64,
    /// The current rate, at most `ceiling`.
    rate: f64,
    limiter: Arc<DefaultDirectRateLimiter>,
    /// No request before this instant (the latest `Retry-After`).
    not_before: Option<Instant>,
    /// Answers not throttled since the rate last changed.
    calm: u32,
}

impl Pacer {
    pub fn new(rate: NonZeroU32) -> Pacer {
        let ceiling = f64::from(rate.get());
        Pacer {
            inner: Arc::new(Mutex::new(PaceState {
                ceiling,
                rate: ceiling,
                limiter: Arc::new(limiter(ceiling)),
                not_before: None,
                calm: 0,
            })),
        }
    }

    /// Waits until the next request may be sent.
    pub async fn acquire(&self) {
        loop {
            let (limiter, not_before) = {
                let state = self.lock();
                (state.limiter.clone(), state.not_before)
            };
            match not_before {
                Some(at) if at > Instant::now() => tokio::time::sleep_until(at).await,
                _ => {
                    limiter.until_ready().await;
                    // A Retry-After that arrived while we waited for the limiter holds us too.
                    let not_before = self.lock().not_before;
                    if not_before.map_or(true, |at| at <= Instant::now()) {
                        return;
                    }
                }
            }
        }
    }

    /// A `429` arrived: nobody sends before `retry_after` has passed, and the rate halves.
    pub fn throttled(&self, retry_after: Duration) {
        let mut state = self.lock();
        let until = Instant::now() + retry_after;
        state.not_before = Some(state.not_before.map_or(until, |t| t.max(until)));
        let slower = (state.rate / 2.0).max(MIN_RATE);
        state.set_rate(slower);
        tracing::debug!(rate = slower, "throttled by the server; slowing down");
    }

    /// An answer that was not throttled: after a second's worth of them, speed up by a tenth
    /// of the ceiling.
    pub fn answered(&self) {
        let mut state = self.lock();
        if state.rate >= state.ceiling {
            return;
        }
        state.calm += 1;
        if f64::from(state.calm) >= state.rate.max(1.0) {
            let faster = (state.rate + state.ceiling / 10.0).min(state.ceiling);
            state.set_rate(faster);
        }
    }

    /// When requests may resume after the latest `Retry-After`, if that is set.
    pub fn resume_at(&self) -> Option<Instant> {
        self.lock().not_before
    }

    /// The current rate in requests per second.
    pub fn rate(&self) -> f64 {
        self.lock().rate
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PaceState> {
        // A panic while holding this lock leaves only numbers behind: keep using them.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl PaceState {
    fn set_rate(&mut self, rate: f64) {
        self.rate = rate;
        self.calm = 0;
        self.limiter = Arc::new(limiter(rate));
    }
}

fn limiter(rate: f64) -> DefaultDirectRateLimiter {
    let period = Duration::from_secs_f64(1.0 / rate.max(MIN_RATE));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    RateLimiter::direct(quota)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_halves_and_calm_recovers() {
        let pacer = Pacer::new(NonZeroU32::new(20).unwrap());
        pacer.throttled(Duration::ZERO);
        assert_eq!(pacer.rate(), 10.0);
        pacer.throttled(Duration::ZERO);
        assert_eq!(pacer.rate(), 5.0);
        for _ in 0..5 {
            pacer.answered();
        }
        assert_eq!(pacer.rate(), 7.0);
        for _ in 0..100 {
            pacer.answered();
        }
        assert_eq!(
            pacer.rate(),
            20.0,
            "recovers up to the ceiling, never above"
        );
    }

    #[test]
    fn the_rate_never_drops_below_the_floor() {
        let pacer = Pacer::new(NonZeroU32::new(1).unwrap());
        for _ in 0..10 {
            pacer.throttled(Duration::ZERO);
        }
        assert_eq!(pacer.rate(), MIN_RATE);
    }

    #[test]
    fn retry_after_holds_every_clone() {
        let pacer = Pacer::new(NonZeroU32::new(1000).unwrap());
        let other = pacer.clone();
        other.throttled(Duration::from_secs(3));
        let resume = pacer.resume_at().expect("a pause is set");
        assert!(resume > Instant::now() + Duration::from_secs(2));
        other.throttled(Duration::from_secs(1));
        assert_eq!(
            pacer.resume_at(),
            Some(resume),
            "a shorter Retry-After never shortens a pause"
        );
    }
}
