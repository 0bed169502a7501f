//! The lock that stops a second run of the same job while one runs (a cron line that fires
//! again before the last load finished). It owns `JOB.toml.lock` beside the job file: an
//! exclusive `fs2` lock held for the whole run, and the holder's pid and start time written
//! inside for the message a second run prints.
//!
//! The file itself is left in place when the run ends: the operating system releases the
//! lock when the process exits (even when it is killed), so a stale file never blocks a run,
//! and deleting it could let two runs lock two different files.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs2::FileExt;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "this job is already running: {path} is locked by {holder}. This run did nothing; \
         the lock is released when that run ends"
    )]
    Held { path: String, holder: String },
    #[error("cannot use the lock file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A held job lock; released on drop.
#[derive(Debug)]
pub struct JobLock {
    file: File,
    path: PathBuf,
}

/// The lock file of a job: `nightly.toml` → `nightly.toml.lock`.
pub fn lock_path(job: &Path) -> PathBuf {
    let mut name = job.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl JobLock {
    /// Takes the job's lock without waiting, or says who holds it.
    pub fn acquire(job: &Path) -> Result<JobLock, LockError> {
        let path = lock_path(job);
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if file.try_lock_exclusive().is_err() {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(LockError::Held {
                path: path.display().to_string(),
                holder: describe_holder(&text),
            });
        }
        let started = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        write!(file, "pid={}\nstarted={started}\n", std::process::id()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(JobLock { file, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for JobLock {
    fn drop(&mut self) {
        // Empty it so a reader never mistakes a finished run for a running one.
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}

/// `pid 4711 (started 2025-01-31T02:00:00Z)` from the file's `key=value` lines.
fn describe_holder(text: &str) -> String {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    match (field("pid"), field("started")) {
        (Some(pid), Some(started)) => format!("pid {pid} (started {started})"),
        (Some(pid), None) => format!("pid {pid}"),
        _ => "another process".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let job = dir.path().join("nightly.toml");
        let first = JobLock::acquire(&job).unwrap();
        let err = JobLock::acquire(&job).unwrap_err().to_string();
        assert!(err.contains("nightly.toml.lock"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = JobLock::acquire(&job);
        assert!(again.is_ok(), "the lock is free once released");
    }
}
