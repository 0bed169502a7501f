//! Request counters behind `GET /__sandbox/stats` and [`super::Sandbox::stats`]: every
//! servlet request by command, REST calls by endpoint, 429 answers and injected faults.
//! Counting only; nothing here decides how a request is answered.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A snapshot of the counters, serialised as the stats endpoint's JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Servlet requests received, by canonical command name (unknown commands as sent,
    /// requests without a command under `""`).
    pub requests: BTreeMap<String, u64>,
    /// REST requests received: `fieldsList`, `getNomDetails`.
    pub rest: BTreeMap<String, u64>,
    /// `429` answers, from the rate limit and from the `throttle` fault.
    pub throttled: u64,
    /// Injected faults by kind: `error`, `reset`, `drop-after-commit`, `throttle`.
    pub faults: BTreeMap<String, u64>,
}

impl Stats {
    /// Requests received for one command.
    pub fn count(&self, command: &str) -> u64 {
        self.requests.get(command).copied().unwrap_or(0)
    }

    /// Servlet requests received in all.
    pub fn total_requests(&self) -> u64 {
        self.requests.values().sum()
    }
}

/// The live counters, shared by the server's tasks.
pub struct Counters(Mutex<Stats>);

impl Counters {
    pub fn new() -> Counters {
        let mut stats = Stats::default();
        for key in ["fieldsList", "getNomDetails"] {
            stats.rest.insert(key.into(), 0);
        }
        for key in ["error", "reset", "drop-after-commit", "throttle"] {
            stats.faults.insert(key.into(), 0);
        }
        Counters(Mutex::new(stats))
    }

    fn with(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()));
    }

    pub fn request(&self, command: &str) {
        self.with(|s| *s.requests.entry(command.to_string()).or_default() += 1);
    }

    pub fn rest(&self, endpoint: &str) {
        self.with(|s| *s.rest.entry(endpoint.to_string()).or_default() += 1);
    }

    pub fn throttled(&self) {
        self.with(|s| s.throttled += 1);
    }

    pub fn fault(&self, kind: &str) {
        self.with(|s| *s.faults.entry(kind.to_string()).or_default() += 1);
    }

    pub fn snapshot(&self) -> Stats {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Default for Counters {
    fn default() -> Self {
        Counters::new()
    }
}
