//! Progress of a long import: an indicatif bar (rows, rate, ETA, failures so far) when stderr
//! is a terminal, and a log line every few seconds when it is not (cron, CI), so a stuck
//! nightly load is visible in its log. It only counts; it never decides anything.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the non-terminal log line is written.
const LOG_EVERY: Duration = Duration::from_secs(5);

pub struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    done: AtomicU64,
    failures: AtomicU64,
    started: Instant,
    last_log: Mutex<Instant>,
}

impl Progress {
    /// A bar on a terminal (unless `quiet`), periodic log lines otherwise.
    pub fn new(total: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} rows  {per_sec}  ETA {eta}  {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        let now = Instant::now();
        Progress {
            bar,
            total,
            done: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            started: now,
            last_log: Mutex::new(now),
        }
    }

    /// One row finished.
    pub fn row(&self, failed: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let failures = if failed {
            self.failures.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            self.failures.load(Ordering::Relaxed)
        };
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                if failed {
                    bar.set_message(format!("failures: {failures}"));
                }
            }
            None => self.maybe_log(done, failures),
        }
    }

    fn maybe_log(&self, done: u64, failures: u64) {
        let Ok(mut last) = self.last_log.try_lock() else {
            return;
        };
        if last.elapsed() < LOG_EVERY {
            return;
        }
        *last = Instant::now();
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        tracing::info!(
            "{done}/{} rows, {rate:.0} rows/s, {failures} failures so far",
            self.total
        );
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
