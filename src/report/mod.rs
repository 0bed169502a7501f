//! The per-row report of an import: what happened to every row, in row order, as CSV or JSON,
//! plus the failures file that holds the original rows that did not make it.
//!
//! This module owns the row outcome types, their file formats and the ordering of rows that
//! arrive out of order from parallel workers. It does not decide outcomes (that is `execute`),
//! does not talk to the API, and does not own the journal (`journal`) or the end-of-run
//! summary (`summary`).
//!
//! Workers send a [`Finished`] value per row to one [`ReportWriter`] (usually over a channel,
//! see [`ReportWriter::drain`]). The writer puts rows back in input order with a small reorder
//! buffer keyed by a sequence number the feeder assigns, so memory stays proportional to the
//! rows in flight, not to the file.
//!
//! Files are written to a temporary file beside the target and renamed into place by
//! [`ReportWriter::finish`]: after a crash the path holds either the previous complete report
//! or nothing, never half a file (the journal is what survives a crash; `--resume` rebuilds
//! the full report from it).

mod csv;
mod failures;
mod json;
mod order;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use failures::{FailuresWriter, ERROR_COLUMN};

use order::Reorder;

/// What happened to a row. Written in lower case (`created`, `would create`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// A new entry was created.
    #[serde(rename = "created")]
    Created,
    /// An existing entry was changed (only the changed attributes were sent).
    #[serde(rename = "updated")]
    Updated,
    /// The entry already held these values; no write call was made.
    #[serde(rename = "unchanged")]
    Unchanged,
    /// The row was deliberately not sent (for example an empty row, or a row filtered out).
    #[serde(rename = "skipped")]
    Skipped,
    /// The row failed validation and was never sent.
    #[serde(rename = "invalid")]
    Invalid,
    /// The row was sent and the API refused it, or it could not be sent after retries.
    #[serde(rename = "failed")]
    Failed,
    /// Dry run / validate: a real import would create this entry.
    #[serde(rename = "would create")]
    WouldCreate,
    /// Dry run / validate: a real import would update this entry.
    #[serde(rename = "would update")]
    WouldUpdate,
}

impl Status {
    /// Every status, in the order the summary lists them.
    pub const ALL: [Status; 8] = [
        Status::Created,
        Status::Updated,
        Status::Unchanged,
        Status::Skipped,
        Status::WouldCreate,
        Status::WouldUpdate,
        Status::Invalid,
        Status::Failed,
    ];

    /// The word written in report files.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::Skipped => "skipped",
            Status::Invalid => "invalid",
            Status::Failed => "failed",
            Status::WouldCreate => "would create",
            Status::WouldUpdate => "would update",
        }
    }

    /// Whether the row counts against the run (exit code 3, failures file).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Invalid | Status::Failed)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The write a row called for (or would call for in a dry run). Written in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Create a new entry.
    Create,
    /// Edit an existing entry.
    Update,
    /// Link a contact to a company (`setcontact`) after the entry itself was written.
    Link,
    /// No write: the entry is unchanged, or the row was skipped or invalid.
    None,
}

impl Action {
    /// The word written in report files.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Link => "link",
            Action::None => "none",
        }
    }
}

/// One row of the report: what happened to one spreadsheet row.
///
/// The CSV columns are, in order: `row,status,id,key,message,action,attempts,verified,changed`.
/// The JSON report is an array of these objects with the same names in the same order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowOutcome {
    /// The row number a person sees in the spreadsheet (header = row 1, first data row = 2).
    pub row: u64,
    /// What happened to the row.
    pub status: Status,
    /// The CRM id of the entry created, updated or matched; empty when there is none.
    pub id: Option<String>,
    /// The row's value in the key column (the matching attribute), as read.
    pub key: String,
    /// The API's own words plus ours: why a row failed or was invalid, or a note; may be empty.
    pub message: String,
    /// The write the row called for; `none` when no write was (or would be) needed.
    pub action: Action,
    /// Write calls made for this row, retries included (0 when nothing was sent).
    pub attempts: u32,
    /// True when a call's outcome was in doubt (timeout, reset, lost answer) and the result was
    /// confirmed by looking the entry up by its key instead of sending it again.
    pub verified: bool,
    /// Attribute names that were (or would be) sent, in file order; empty when nothing changed.
    pub changed: Vec<String>,
}

impl RowOutcome {
    /// An outcome with no id, no message, no calls: fill in the rest with struct update syntax.
    pub fn new(row: u64, status: Status, key: impl Into<String>) -> RowOutcome {
        RowOutcome {
            row,
            status,
            id: None,
            key: key.into(),
            message: String::new(),
            action: Action::None,
            attempts: 0,
            verified: false,
            changed: Vec::new(),
        }
    }
}

/// One finished row as a worker hands it to the [`ReportWriter`].
#[derive(Debug, Clone)]
pub struct Finished {
    /// The row's position in the input, counting data records from 0 with no gaps. The feeder
    /// assigns it; the writer emits rows in this order. (Spreadsheet row numbers have gaps when
    /// a CSV record spans lines, so they cannot serve.)
    pub seq: u64,
    /// What happened.
    pub outcome: RowOutcome,
    /// The row's original cells exactly as read, in header order. Only used for invalid and
    /// failed rows (the failures file); may be empty otherwise.
    pub cells: Vec<String>,
}

/// The report file format (`--report-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    /// Comma-separated values with a header row.
    #[default]
    Csv,
    /// A JSON array of row objects.
    Json,
}

impl ReportFormat {
    /// The file extension of this format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Json => "json",
        }
    }
}

/// The default report path: `<input stem>.report.<csv|json>` in the input's directory.
pub fn default_report_path(input: &Path, format: ReportFormat) -> PathBuf {
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".to_string());
    input.with_file_name(format!("{stem}.report.{}", format.extension()))
}

/// An error writing the report or the failures file, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: cannot write the report: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write the report: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: ::csv::Error,
    },
    #[error("{path}: cannot write the report: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl From<crate::atomic::AtomicError> for ReportError {
    fn from(err: crate::atomic::AtomicError) -> ReportError {
        let path = err.path().to_path_buf();
        io_error(&path, err.into_io())
    }
}

pub(crate) fn io_error(path: &std::path::Path, source: std::io::Error) -> ReportError {
    ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One report file format: receives rows already in order.
trait RowSink: Send {
    /// Writes one row.
    fn write(&mut self, outcome: &RowOutcome) -> Result<(), ReportError>;
    /// Completes the file and moves it into place.
    fn finish(self: Box<Self>) -> Result<(), ReportError>;
}

fn open_sink(path: &Path, format: ReportFormat) -> Result<Box<dyn RowSink>, ReportError> {
    Ok(match format {
        ReportFormat::Csv => Box::new(csv::CsvReport::create(path)?),
        ReportFormat::Json => Box::new(json::JsonReport::create(path)?),
    })
}

/// Where and how to write the report files.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The report file (`--report`, or [`default_report_path`]).
    pub report: PathBuf,
    /// Its format (`--report-format`).
    pub format: ReportFormat,
    /// The failures file (`--failures`), if any.
    pub failures: Option<PathBuf>,
    /// The input's header row, as read (the failures file repeats it).
    pub headers: Vec<String>,
}

/// Counts of rows per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Rows that created a new entry.
    pub created: u64,
    /// Rows that updated an existing entry.
    pub updated: u64,
    /// Rows whose entry already held these values (no write call).
    pub unchanged: u64,
    /// Rows deliberately not sent.
    pub skipped: u64,
    /// Dry run: rows a real import would create.
    pub would_create: u64,
    /// Dry run: rows a real import would update.
    pub would_update: u64,
    /// Rows that failed validation and were never sent.
    pub invalid: u64,
    /// Rows the API refused, or that could not be sent after retries.
    pub failed: u64,
}

impl StatusCounts {
    /// Counts one more row with this status.
    pub fn add(&mut self, status: Status) {
        *self.slot(status) += 1;
    }

    /// The count for one status.
    pub fn get(&self, status: Status) -> u64 {
        match status {
            Status::Created => self.created,
            Status::Updated => self.updated,
            Status::Unchanged => self.unchanged,
            Status::Skipped => self.skipped,
            Status::WouldCreate => self.would_create,
            Status::WouldUpdate => self.would_update,
            Status::Invalid => self.invalid,
            Status::Failed => self.failed,
        }
    }

    /// All rows counted.
    pub fn total(&self) -> u64 {
        Status::ALL.iter().map(|s| self.get(*s)).sum()
    }

    /// Invalid plus failed rows: non-zero means exit code 3.
    pub fn failures(&self) -> u64 {
        self.invalid + self.failed
    }

    fn slot(&mut self, status: Status) -> &mut u64 {
        match status {
            Status::Created => &mut self.created,
            Status::Updated => &mut self.updated,
            Status::Unchanged => &mut self.unchanged,
            Status::Skipped => &mut self.skipped,
            Status::WouldCreate => &mut self.would_create,
            Status::WouldUpdate => &mut self.would_update,
            Status::Invalid => &mut self.invalid,
            Status::Failed => &mut self.failed,
        }
    }
}

/// The files a finished [`ReportWriter`] left behind, and what it counted.
#[derive(Debug, Clone)]
pub struct ReportFiles {
    /// The report file.
    pub report: PathBuf,
    /// The failures file, if one was asked for.
    pub failures: Option<PathBuf>,
    /// Rows written, per status.
    pub counts: StatusCounts,
}

/// Writes the report (and the failures file) in row order from outcomes arriving in any order.
pub struct ReportWriter {
    options: ReportOptions,
    order: Reorder<Finished>,
    report: Box<dyn RowSink>,
    failures: Option<FailuresWriter>,
    counts: StatusCounts,
}

impl ReportWriter {
    /// Opens the temporary files; nothing replaces an existing report until [`finish`](Self::finish).
    pub fn create(options: ReportOptions) -> Result<ReportWriter, ReportError> {
        let report = open_sink(&options.report, options.format)?;
        let failures = match &options.failures {
            Some(path) => Some(FailuresWriter::create(path, &options.headers)?),
            None => None,
        };
        Ok(ReportWriter {
            options,
            order: Reorder::new(),
            report,
            failures,
            counts: StatusCounts::default(),
        })
    }

    /// Accepts one finished row; writes it and any rows it was holding back that are now due.
    pub fn record(&mut self, mut finished: Finished) -> Result<(), ReportError> {
        // Last line of defence: an API message that echoes a URL must not leak the key.
        finished.outcome.message = crate::secret::redact_text(&finished.outcome.message);
        let seq = finished.seq;
        for due in self.order.push(seq, finished) {
            self.emit(due)?;
        }
        Ok(())
    }

    /// Rows counted so far (including rows still held back for ordering).
    pub fn counts(&self) -> StatusCounts {
        let mut counts = self.counts;
        for held in self.order.held() {
            counts.add(held.outcome.status);
        }
        counts
    }

    /// Receives finished rows until every sender is dropped, then finishes. Run it on its own
    /// thread; on Ctrl-C the caller stops feeding, lets workers finish and drops the senders.
    pub fn drain(
        mut self,
        rx: std::sync::mpsc::Receiver<Finished>,
    ) -> Result<ReportFiles, ReportError> {
        for finished in rx {
            self.record(finished)?;
        }
        self.finish()
    }

    /// Writes any rows still held back (in order, leaving gaps for rows that never finished,
    /// as after an interrupt), completes the files and moves them into place.
    pub fn finish(mut self) -> Result<ReportFiles, ReportError> {
        for held in self.order.drain_all() {
            self.emit(held)?;
        }
        self.report.finish()?;
        if let Some(failures) = self.failures {
            failures.finish()?;
        }
        Ok(ReportFiles {
            report: self.options.report,
            failures: self.options.failures,
            counts: self.counts,
        })
    }

    fn emit(&mut self, finished: Finished) -> Result<(), ReportError> {
        self.counts.add(finished.outcome.status);
        self.report.write(&finished.outcome)?;
        if let Some(failures) = &mut self.failures {
            if finished.outcome.status.is_failure() {
                failures.write(&finished.cells, &finished.outcome.message)?;
            }
        }
        Ok(())
    }
}
