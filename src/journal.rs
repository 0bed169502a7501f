//! The journal: an append-only file beside the report (`<report>.journal`) that records each
//! row's progress durably as it happens, so `--resume` can finish an interrupted or killed
//! import without losing or repeating a row.
//!
//! It owns the journal's format, its batched syncing, loading it back (tolerating the torn
//! last line a `kill -9` leaves) and the check that a resumed run reads the same input with
//! the same options. It does not decide what to resend: the import command verifies every
//! unfinished row by its key before writing it again (see docs/reliability.md).
//!
//! Format: NDJSON. The first line is a `start` event with the input file's identity (path,
//! size, SHA-256) and the run's table, mode and key; then one line per event:
//! `intent` (a write for row N with key K is about to be sent), `done` (row N's final
//! outcome, the report row itself), `resume` (a later run took over) and `end` (the run
//! finished every row). For a row, the last event wins.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use fs2::FileExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::report::{Action, RowOutcome};

/// The value of the `journal` field in a start line, to recognise our files.
const MAGIC: &str = "crm-bulk journal";
/// The format version written in the start line.
const VERSION: u32 = 1;

/// The journal path for a report: the report's file name with `.journal` appended.
pub fn journal_path(report: &Path) -> PathBuf {
    let mut name = report.as_os_str().to_owned();
    name.push(".journal");
    PathBuf::from(name)
}

/// Which input file a run read, so a resumed run can tell whether it changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputIdentity {
    /// The path as given on the command line (informative; not compared).
    pub path: String,
    /// The file's size in bytes.
    pub size: u64,
    /// SHA-256 of the file's contents, lower-case hex.
    pub sha256: String,
}

impl InputIdentity {
    /// Reads the whole file once to hash it.
    pub fn of(path: &Path) -> Result<InputIdentity, JournalError> {
        let io = |source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            size += n as u64;
        }
        Ok(InputIdentity {
            path: path.display().to_string(),
            size,
            sha256: hex::encode(hasher.finalize()),
        })
    }
}

/// The first line of a journal: what this run imports, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalHeader {
    /// Always `crm-bulk journal`.
    pub journal: String,
    /// Format version (1).
    pub version: u32,
    /// The input file.
    pub input: InputIdentity,
    /// The CRM table (API name).
    pub table: String,
    /// The import mode (`insert`, `update`, `upsert`).
    pub mode: String,
    /// The key column's header (the matching attribute).
    pub key: String,
    /// When the run started (RFC 3339, local time).
    pub started: String,
}

impl JournalHeader {
    /// A header for a run starting now.
    pub fn new(input: InputIdentity, table: &str, mode: &str, key: &str) -> JournalHeader {
        JournalHeader {
            journal: MAGIC.to_string(),
            version: VERSION,
            input,
            table: table.to_string(),
            mode: mode.to_string(),
            key: key.to_string(),
            started: chrono::Local::now().to_rfc3339(),
        }
    }

    /// Whether a run described by `current` may resume the run this journal recorded.
    ///
    /// The table, mode and key must match (rows would mean something else otherwise). The
    /// input must have the same contents, unless `force`: rows are matched by row number, so
    /// resuming over an edited file may skip or repeat rows.
    pub fn check_resume(&self, current: &JournalHeader, force: bool) -> Result<(), JournalError> {
        for (option, was, now) in [
            ("--table", &self.table, &current.table),
            ("--mode", &self.mode, &current.mode),
            ("--key", &self.key, &current.key),
        ] {
            if was != now {
                return Err(JournalError::OptionChanged {
                    option,
                    was: was.clone(),
                    now: now.clone(),
                });
            }
        }
        let same =
            self.input.size == current.input.size && self.input.sha256 == current.input.sha256;
        if !same && !force {
            return Err(JournalError::InputChanged {
                path: current.input.path.clone(),
                was: short_hash(&self.input.sha256),
                now: short_hash(&current.input.sha256),
                started: self.started.clone(),
            });
        }
        Ok(())
    }
}

fn short_hash(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// A write that was about to be sent for a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The spreadsheet row number.
    pub row: u64,
    /// The row's key value.
    pub key: String,
    /// The write about to be sent.
    pub action: Action,
}

/// One journal line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Event {
    Start(JournalHeader),
    Intent(Intent),
    Done(RowOutcome),
    Resume { started: String },
    End,
}

/// How often the journal is forced to disk: whichever comes first.
#[derive(Debug, Clone, Copy)]
pub struct SyncPolicy {
    /// At most this long between a line being written and it being synced.
    pub every: Duration,
    /// At most this many unsynced lines.
    pub lines: usize,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy {
            every: Duration::from_millis(200),
            lines: 512,
        }
    }
}

/// An error with the journal, naming its file.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no journal here, so there is nothing to resume (the journal is written beside the report as <report>.journal)")]
    Missing { path: PathBuf },
    #[error("{path}: another crm-bulk run is using this journal; wait for it to finish")]
    Locked { path: PathBuf },
    #[error("{path}: not a crm-bulk journal (the first line is not a start record)")]
    NotAJournal { path: PathBuf },
    #[error("{path}: line {line} is damaged ({message}); the journal cannot be trusted, start a new import without --resume")]
    Corrupt {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path} has changed since the interrupted run of {started} (SHA-256 {was}… then, {now}… now): rows may have moved, so resuming could skip or repeat rows; start a new import without --resume, or add --force to resume anyway")]
    InputChanged {
        path: String,
        was: String,
        now: String,
        started: String,
    },
    #[error("the interrupted run used {option} {was:?} but this run uses {now:?}; resume with the same options")]
    OptionChanged {
        option: &'static str,
        was: String,
        now: String,
    },
}

/// What a journal says about an earlier run.
#[derive(Debug, Clone)]
pub struct JournalState {
    /// The run's start line.
    pub header: JournalHeader,
    /// Rows with a final outcome, by spreadsheet row number. A resumed run does not send them
    /// again; it copies these outcomes into the new report.
    pub finished: BTreeMap<u64, RowOutcome>,
    /// Rows whose write was about to be sent but that have no outcome: the server may or may
    /// not have acted. Because syncing is batched, an unfinished row without an intent line
    /// may have been sent too; resume must verify every unfinished row by its key.
    pub in_doubt: BTreeMap<u64, Intent>,
    /// True when the run recorded that it finished every row.
    pub complete: bool,
    /// True when the last line was torn (the process died mid-write) and was ignored.
    pub torn_tail: bool,
    /// Byte length of the intact part; a resumed run truncates the file here before appending.
    valid_len: u64,
}

/// The journal writer. Shared by reference between workers (`Arc<Journal>`): every method
/// takes `&self`.
pub struct Journal {
    path: PathBuf,
    inner: Mutex<Inner>,
}

struct Inner {
    out: BufWriter<File>,
    policy: SyncPolicy,
    unsynced: usize,
    last_sync: Instant,
}

impl Journal {
    /// Starts a new journal at `path` (replacing any old one) and syncs its start line.
    pub fn create(
        path: &Path,
        header: &JournalHeader,
        policy: SyncPolicy,
    ) -> Result<Journal, JournalError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| io_error(path, source))?;
        lock(path, &file)?;
        // Truncate only once the lock is ours, so a running import's journal is never cut.
        file.set_len(0).map_err(|source| io_error(path, source))?;
        let journal = Journal::wrap(path, file, policy);
        journal.append(&Event::Start(header.clone()))?;
        journal.sync()?;
        sync_dir(path);
        Ok(journal)
    }

    /// Reopens the journal of an interrupted run for appending: drops its torn tail, if any,
    /// and records that a new run took over.
    pub fn reopen(
        path: &Path,
        state: &JournalState,
        policy: SyncPolicy,
    ) -> Result<Journal, JournalError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| open_error(path, source))?;
        lock(path, &file)?;
        file.set_len(state.valid_len)
            .map_err(|source| io_error(path, source))?;
        let mut file = file;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|source| io_error(path, source))?;
        let journal = Journal::wrap(path, file, policy);
        journal.append(&Event::Resume {
            started: chrono::Local::now().to_rfc3339(),
        })?;
        journal.sync()?;
        Ok(journal)
    }

    fn wrap(path: &Path, file: File, policy: SyncPolicy) -> Journal {
        Journal {
            path: path.to_path_buf(),
            inner: Mutex::new(Inner {
                out: BufWriter::new(file),
                policy,
                unsynced: 0,
                last_sync: Instant::now(),
            }),
        }
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that a write for `row` is about to be sent. Call it before sending.
    pub fn intent(&self, row: u64, key: &str, action: Action) -> Result<(), JournalError> {
        self.append(&Event::Intent(Intent {
            row,
            key: key.to_string(),
            action,
        }))
    }

    /// Records a row's final outcome (for every row, invalid and unchanged ones included).
    pub fn done(&self, outcome: &RowOutcome) -> Result<(), JournalError> {
        let mut outcome = outcome.clone();
        outcome.message = crate::secret::redact_text(&outcome.message);
        self.append(&Event::Done(outcome))
    }

    /// Records that every row was processed, and syncs.
    pub fn mark_complete(&self) -> Result<(), JournalError> {
        self.append(&Event::End)?;
        self.sync()
    }

    /// Flushes and syncs everything written so far. Safe to call any time, repeatedly, and on
    /// interrupt; the import calls it before exiting whatever happened.
    pub fn sync(&self) -> Result<(), JournalError> {
        let mut inner = self.lock_inner();
        self.sync_locked(&mut inner)
    }

    fn append(&self, event: &Event) -> Result<(), JournalError> {
        let mut line = serde_json::to_vec(event).map_err(|e| io_error(&self.path, e.into()))?;
        line.push(b'\n');
        let mut inner = self.lock_inner();
        inner
            .out
            .write_all(&line)
            .map_err(|source| io_error(&self.path, source))?;
        inner.unsynced += 1;
        if inner.unsynced >= inner.policy.lines || inner.last_sync.elapsed() >= inner.policy.every {
            self.sync_locked(&mut inner)?;
        }
        Ok(())
    }

    fn sync_locked(&self, inner: &mut Inner) -> Result<(), JournalError> {
        let io = |source| io_error(&self.path, source);
        inner.out.flush().map_err(io)?;
        inner.out.get_ref().sync_data().map_err(io)?;
        inner.unsynced = 0;
        inner.last_sync = Instant::now();
        Ok(())
    }

    fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        // A worker that panicked mid-append leaves at worst a torn line, which load tolerates.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads a journal back. Tolerates a torn last line; refuses damage elsewhere.
    pub fn load(path: &Path) -> Result<JournalState, JournalError> {
        let file = File::open(path).map_err(|source| open_error(path, source))?;
        let mut reader = BufReader::new(file);
        let mut lines: Vec<(u64, Option<Event>, bool)> = Vec::new();
        let mut offset = 0u64;
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let n = reader
                .read_until(b'\n', &mut buf)
                .map_err(|source| io_error(path, source))?;
            if n == 0 {
                break;
            }
            let terminated = buf.last() == Some(&b'\n');
            let event = if terminated {
                serde_json::from_slice::<Event>(&buf).ok()
            } else {
                None
            };
            lines.push((offset, event, terminated));
            offset += n as u64;
        }
        fold(path, lines, offset)
    }
}

/// Replays the parsed lines into a state. `lines` holds (start offset, event if parseable).
fn fold(
    path: &Path,
    lines: Vec<(u64, Option<Event>, bool)>,
    end: u64,
) -> Result<JournalState, JournalError> {
    let count = lines.len();
    let mut iter = lines.into_iter().enumerate();
    let header = match iter.next() {
        Some((_, (_, Some(Event::Start(header)), _))) if header.journal == MAGIC => header,
        _ => {
            return Err(JournalError::NotAJournal {
                path: path.to_path_buf(),
            })
        }
    };
    let mut state = JournalState {
        header,
        finished: BTreeMap::new(),
        in_doubt: BTreeMap::new(),
        complete: false,
        torn_tail: false,
        valid_len: end,
    };
    for (index, (offset, event, _)) in iter {
        let Some(event) = event else {
            if index + 1 == count {
                // The process died mid-write: this line never fully reached the disk.
                state.torn_tail = true;
                state.valid_len = offset;
                break;
            }
            return Err(JournalError::Corrupt {
                path: path.to_path_buf(),
                line: index as u64 + 1,
                message: "not a journal record".to_string(),
            });
        };
        apply(&mut state, event);
    }
    Ok(state)
}

fn apply(state: &mut JournalState, event: Event) {
    match event {
        Event::Intent(intent) => {
            state.finished.remove(&intent.row);
            state.in_doubt.insert(intent.row, intent);
            state.complete = false;
        }
        Event::Done(outcome) => {
            state.in_doubt.remove(&outcome.row);
            state.finished.insert(outcome.row, outcome);
        }
        Event::End => state.complete = true,
        Event::Start(_) | Event::Resume { .. } => state.complete = false,
    }
}

fn lock(path: &Path, file: &File) -> Result<(), JournalError> {
    file.try_lock_exclusive().map_err(|_| JournalError::Locked {
        path: path.to_path_buf(),
    })
}

/// Makes a newly created file's directory entry durable. Best effort: some file systems
/// cannot open directories, and the data itself is already synced.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
}

fn io_error(path: &Path, source: std::io::Error) -> JournalError {
    JournalError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn open_error(path: &Path, source: std::io::Error) -> JournalError {
    if source.kind() == std::io::ErrorKind::NotFound {
        JournalError::Missing {
            path: path.to_path_buf(),
        }
    } else {
        io_error(path, source)
    }
}
