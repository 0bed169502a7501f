//! Files that appear whole or not at all: written under a temporary name beside the target
//! (`.<name>.<random>.partial`, same file system, so the final rename is atomic), synced, and
//! renamed into place only when complete. A reader, a monitor or a crash never sees half a
//! report, export, summary or schema file; on any error the temporary file is removed and an
//! existing target is left untouched.
//!
//! This is the one atomic-write helper of the crate. It knows bytes and paths, not formats,
//! rows or commands; callers turn [`AtomicError`] into their own error type.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Why an atomic write failed, naming the path involved.
#[derive(Debug, thiserror::Error)]
pub enum AtomicError {
    #[error("cannot create a temporary file in {}", dir.display())]
    Create {
        /// The directory the temporary file was to go in.
        dir: PathBuf,
        /// The target the temporary file was for.
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot move the finished file into place at {}", path.display())]
    Rename {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AtomicError {
    /// The target file the failed write was for.
    pub fn path(&self) -> &Path {
        match self {
            AtomicError::Create { path, .. }
            | AtomicError::Write { path, .. }
            | AtomicError::Rename { path, .. } => path,
        }
    }

    pub fn into_io(self) -> std::io::Error {
        match self {
            AtomicError::Create { source, .. }
            | AtomicError::Write { source, .. }
            | AtomicError::Rename { source, .. } => source,
        }
    }
}

/// A file being written under its temporary name. Dropped without
/// [`persist`](Self::persist), it is deleted.
pub struct AtomicFile {
    path: PathBuf,
    temp: NamedTempFile,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile, AtomicError> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp =
            temp_file_in(dir, &format!(".{name}.")).map_err(|source| AtomicError::Create {
                dir: dir.to_path_buf(),
                path: path.to_path_buf(),
                source,
            })?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp,
        })
    }

    /// The target path (not the temporary one).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A buffered writer on the temporary file.
    pub fn writer(&self) -> Result<BufWriter<File>, AtomicError> {
        let file = self
            .temp
            .as_file()
            .try_clone()
            .map_err(|source| self.write_error(source))?;
        Ok(BufWriter::with_capacity(256 * 1024, file))
    }

    /// Flushes `writer`, syncs the data and renames the file over the target, keeping the
    /// target's permissions as overwriting it in place would.
    pub fn persist(self, mut writer: BufWriter<File>) -> Result<(), AtomicError> {
        writer.flush().map_err(|source| self.write_error(source))?;
        drop(writer);
        self.temp
            .as_file()
            .sync_all()
            .map_err(|source| self.write_error(source))?;
        keep_permissions_of(&self.path, self.temp.as_file());
        let path = self.path;
        self.temp.persist(&path).map_err(|e| AtomicError::Rename {
            path: path.clone(),
            source: e.error,
        })?;
        Ok(())
    }

    fn write_error(&self, source: std::io::Error) -> AtomicError {
        AtomicError::Write {
            path: self.path.clone(),
            source,
        }
    }
}

/// Runs `write` against a buffered temporary file next to `target` and moves the result into
/// place if it succeeds. Returns what `write` returned.
pub fn write_atomically<T, E: From<AtomicError>>(
    target: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T, E>,
) -> Result<T, E> {
    let file = AtomicFile::create(target)?;
    let mut out = file.writer()?;
    let value = write(&mut out)?;
    file.persist(out)?;
    Ok(value)
}

#[cfg(unix)]
fn temp_file_in(dir: &Path, prefix: &str) -> std::io::Result<NamedTempFile> {
    use std::os::unix::fs::PermissionsExt;
    // 0666 before the umask, like any file a program creates; tempfile's default is 0600.
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".partial")
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
}

#[cfg(not(unix))]
fn temp_file_in(dir: &Path, prefix: &str) -> std::io::Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(prefix)
        .suffix(".partial")
        .tempfile_in(dir)
}

/// Replacing a file keeps its permissions, as overwriting it in place would.
fn keep_permissions_of(target: &Path, temp: &File) {
    if let Ok(meta) = std::fs::metadata(target) {
        // Best effort: a file we cannot re-permission is still a correct file.
        let _ = temp.set_permissions(meta.permissions());
    }
}
