//! The end-of-run summary: counts per status, time, calls, and where the report went. Shown
//! on stderr as a short block and written as JSON by `--summary-json FILE` for monitoring.
//!
//! It owns the summary's shape, its rendering and the exit-code rule for per-row results. It
//! does not gather the numbers (the import command does, from the report writer and the
//! client's stats) and it does not exit (only `main` does).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::atomic::AtomicFile;
use crate::exit::Exit;
use crate::report::io_error;
use crate::report::{ReportError, Status, StatusCounts};

/// What one import (or dry run) did, for people and for monitoring.
///
/// The JSON written by `--summary-json` is this struct, fields in this order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The input file, as given on the command line.
    pub input: String,
    /// The CRM table imported into (its API name, e.g. `CONTACTS`).
    pub table: String,
    /// True for `validate` and `--dry-run`: nothing was written to the CRM.
    pub dry_run: bool,
    /// True when the run was interrupted (Ctrl-C) before every row was processed.
    pub interrupted: bool,
    /// Rows in the report (every data row processed, in this run or a resumed one).
    pub rows: u64,
    /// Rows per status. Every status is present, zero or not.
    pub counts: StatusCounts,
    /// Rows whose outcome was taken from the journal of an earlier, interrupted run.
    pub resumed: u64,
    /// Wall-clock time of the run, in seconds.
    pub elapsed_seconds: f64,
    /// Write calls sent to the API (creates, edits, links), retries included.
    pub write_calls: u64,
    /// Calls repeated after a failure that was safe to repeat.
    pub retries: u64,
    /// Calls the server refused with 429 (too many requests) and that were retried later.
    pub throttled: u64,
    /// Rows whose write had an unknown outcome and were settled by looking the entry up.
    pub in_doubt_verified: u64,
    /// The report file, if one was written.
    pub report: Option<PathBuf>,
    /// The failures file, if one was asked for.
    pub failures: Option<PathBuf>,
    /// The journal file, if one was kept.
    pub journal: Option<PathBuf>,
    /// The exit code this run ends with (0, 3 or 130; see `--help`).
    pub exit_code: i32,
}

impl Summary {
    /// The exit code for per-row results: 3 when any row was invalid or failed, else 0.
    /// An interrupted run exits 130 whatever its rows did (the caller decides that).
    pub fn exit_for(counts: &StatusCounts, interrupted: bool) -> Exit {
        if interrupted {
            Exit::Interrupted
        } else if counts.failures() > 0 {
            Exit::RowsFailed
        } else {
            Exit::Success
        }
    }

    /// Sets `elapsed_seconds` from a duration.
    pub fn set_elapsed(&mut self, elapsed: Duration) {
        self.elapsed_seconds = elapsed.as_secs_f64();
    }

    /// The short, readable block shown on stderr.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let (verb, preposition) = if self.dry_run {
            ("Checked", "against")
        } else {
            ("Imported", "into")
        };
        let rate = if self.elapsed_seconds > 0.0 {
            self.rows as f64 / self.elapsed_seconds
        } else {
            0.0
        };
        out.push_str(&format!(
            "{verb} {} {preposition} {}: {} rows in {:.1} s ({:.0} rows/s)\n",
            self.input, self.table, self.rows, self.elapsed_seconds, rate
        ));
        if self.dry_run {
            out.push_str("  dry run: nothing was written to the CRM\n");
        }
        for status in Status::ALL {
            let n = self.counts.get(status);
            if n > 0 {
                out.push_str(&format!("  {:<13}{n:>8}\n", status.as_str()));
            }
        }
        if self.resumed > 0 {
            out.push_str(&format!(
                "  ({} of these rows were finished by the interrupted run)\n",
                self.resumed
            ));
        }
        if !self.dry_run {
            out.push_str(&format!(
                "  write calls {}, retries {}, throttled {}, in-doubt writes verified {}\n",
                self.write_calls, self.retries, self.throttled, self.in_doubt_verified
            ));
        }
        for (label, path) in [
            ("report", &self.report),
            ("failures", &self.failures),
            ("journal", &self.journal),
        ] {
            if let Some(path) = path {
                out.push_str(&format!("  {label:<9}{}\n", path.display()));
            }
        }
        if self.interrupted {
            out.push_str("  interrupted: rerun the same command with --resume to finish\n");
        } else if self.counts.failures() > 0 {
            let would = if self.dry_run {
                "would not be"
            } else {
                "were not"
            };
            out.push_str(&format!(
                "  {} rows {would} imported; see the report for why\n",
                self.counts.failures()
            ));
        }
        out
    }

    /// Writes the JSON summary, replacing `path` atomically (a monitor never reads half).
    pub fn write_json(&self, path: &Path) -> Result<(), ReportError> {
        let file = AtomicFile::create(path)?;
        let mut out = file.writer()?;
        serde_json::to_writer_pretty(&mut out, self).map_err(|source| ReportError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        out.write_all(b"\n").map_err(|e| io_error(path, e))?;
        Ok(file.persist(out)?)
    }
}
