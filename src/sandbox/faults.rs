//! Injected faults and rate limiting: the `--faults` specification, the seeded draw that
//! decides each servlet request's fate, and the `--rate-limit` gate.
//!
//! Only the decision lives here; the server acts on it (answers 500/429 or closes the
//! connection). Draws come from one seeded generator behind a mutex, so a run with the same
//! seed and the same request order meets the same faults.

use std::num::NonZeroU32;
use std::sync::Mutex;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Probabilities (0..=1) of each injected fault per servlet request.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FaultSpec {
    /// Answer `500` having changed nothing.
    pub error: f64,
    /// Close the connection before running the command.
    pub reset: f64,
    /// Run and commit the command, then close the connection without an answer.
    pub drop_after_commit: f64,
    /// Answer `429` with `Retry-After`, having run nothing.
    pub throttle: f64,
}

/// A `--faults` specification that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FaultSpecError {
    #[error("fault \"{0}\" is not one of error, reset, drop-after-commit, throttle")]
    UnknownKind(String),
    #[error("fault \"{0}\" needs a probability, e.g. {0}=0.05")]
    MissingProbability(String),
    #[error("fault \"{kind}\": \"{value}\" is not a probability between 0 and 1")]
    BadProbability { kind: String, value: String },
    #[error("the fault probabilities add up to {0}, more than 1")]
    TotalAboveOne(f64),
}

impl FaultSpec {
    /// Parses `error=0.05,reset=0.02,drop-after-commit=0.01,throttle=0.05` (any subset, any
    /// order; an empty string means no faults).
    pub fn parse(spec: &str) -> Result<FaultSpec, FaultSpecError> {
        let mut out = FaultSpec::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, value) = part
                .split_once('=')
                .ok_or_else(|| FaultSpecError::MissingProbability(part.to_string()))?;
            let (kind, value) = (kind.trim(), value.trim());
            let p: f64 = value
                .parse()
                .ok()
                .filter(|p: &f64| (0.0..=1.0).contains(p))
                .ok_or_else(|| FaultSpecError::BadProbability {
                    kind: kind.into(),
                    value: value.into(),
                })?;
            match kind {
                "error" => out.error = p,
                "reset" => out.reset = p,
                "drop-after-commit" => out.drop_after_commit = p,
                "throttle" => out.throttle = p,
                other => return Err(FaultSpecError::UnknownKind(other.to_string())),
            }
        }
        let total = out.error + out.reset + out.drop_after_commit + out.throttle;
        if total > 1.0 + 1e-9 {
            return Err(FaultSpecError::TotalAboveOne(total));
        }
        Ok(out)
    }

    pub fn is_none(&self) -> bool {
        *self == FaultSpec::default()
    }
}

/// What happens to one servlet request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Error,
    Reset,
    DropAfterCommit,
    Throttle,
}

impl Fault {
    /// The name used in `--faults` and in the stats.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Error => "error",
            Fault::Reset => "reset",
            Fault::DropAfterCommit => "drop-after-commit",
            Fault::Throttle => "throttle",
        }
    }
}

/// Draws faults from a seeded generator.
pub struct FaultDraw {
    spec: FaultSpec,
    rng: Mutex<StdRng>,
}

impl FaultDraw {
    pub fn new(spec: FaultSpec, seed: u64) -> FaultDraw {
        FaultDraw {
            spec,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// The fault for the next request, if any.
    pub fn draw(&self) -> Option<Fault> {
        if self.spec.is_none() {
            return None;
        }
        let r: f64 = self.rng.lock().unwrap_or_else(|p| p.into_inner()).gen();
        let s = self.spec;
        let cuts = [
            (s.error, Fault::Error),
            (s.reset, Fault::Reset),
            (s.drop_after_commit, Fault::DropAfterCommit),
            (s.throttle, Fault::Throttle),
        ];
        let mut edge = 0.0;
        for (p, fault) in cuts {
            edge += p;
            if r < edge {
                return Some(fault);
            }
        }
        None
    }
}

/// `--rate-limit N`: N requests per second, bursts of N.
pub struct RateGate(Option<DefaultDirectRateLimiter>);

impl RateGate {
    pub fn new(per_second: Option<u32>) -> RateGate {
        RateGate(
            per_second
                .and_then(NonZeroU32::new)
                .map(|n| RateLimiter::direct(Quota::per_second(n).allow_burst(n))),
        )
    }

    /// Whether one more request may run now.
    pub fn admit(&self) -> bool {
        self.0.as_ref().map_or(true, |l| l.check().is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_spec() {
        let s =
            FaultSpec::parse("error=0.05,reset=0.02,drop-after-commit=0.01,throttle=0.05").unwrap();
        assert_eq!(
            s,
            FaultSpec {
                error: 0.05,
                reset: 0.02,
                drop_after_commit: 0.01,
                throttle: 0.05
            }
        );
        assert!(FaultSpec::parse("").unwrap().is_none());
        assert!(matches!(
            FaultSpec::parse("boom=0.1"),
            Err(FaultSpecError::UnknownKind(_))
        ));
        assert!(matches!(
            FaultSpec::parse("error=2"),
            Err(FaultSpecError::BadProbability { .. })
        ));
        assert!(matches!(
            FaultSpec::parse("error"),
            Err(FaultSpecError::MissingProbability(_))
        ));
        assert!(matches!(
            FaultSpec::parse("error=0.7,reset=0.7"),
            Err(FaultSpecError::TotalAboveOne(_))
        ));
    }

    #[test]
    fn draws_repeat_with_the_seed() {
        let spec = FaultSpec::parse("error=0.3,reset=0.3").unwrap();
        let a: Vec<_> = (0..50)
            .map({
                let d = FaultDraw::new(spec, 7);
                move |_| d.draw()
            })
            .collect();
        let b: Vec<_> = (0..50)
            .map({
                let d = FaultDraw::new(spec, 7);
                move |_| d.draw()
            })
            .collect();
        assert_eq!(a, b);
        assert!(
            a.contains(&Some(Fault::Error)) && a.contains(&Some(Fault::Reset)) && a.contains(&None)
        );
    }
}
