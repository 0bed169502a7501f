//! A file written under a temporary name beside its target and renamed into place when
//! complete, so a reader (or a crash) never sees half of it.
//!
//! It owns only the create/persist dance; formats live in their own modules.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::ReportError;

pub(crate) struct AtomicFile {
    path: PathBuf,
    temp: NamedTempFile,
}

impl AtomicFile {
    /// Creates `.<name>.<random>.partial` in the target's directory (same file system, so the
    /// final rename is atomic). Dropped without [`persist`](Self::persist), it is deleted.
    pub(crate) fn create(path: &Path) -> Result<AtomicFile, ReportError> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|source| io_error(path, source))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            temp,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A buffered writer on the temporary file.
    pub(crate) fn writer(&self) -> Result<BufWriter<File>, ReportError> {
        let file = self
            .temp
            .as_file()
            .try_clone()
            .map_err(|source| io_error(&self.path, source))?;
        Ok(BufWriter::new(file))
    }

    /// Flushes `writer`, syncs the data and renames the file into place.
    pub(crate) fn persist(self, mut writer: BufWriter<File>) -> Result<(), ReportError> {
        let path = self.path;
        writer.flush().map_err(|source| io_error(&path, source))?;
        drop(writer);
        self.temp
            .as_file()
            .sync_all()
            .map_err(|source| io_error(&path, source))?;
        self.temp
            .persist(&path)
            .map_err(|e| io_error(&path, e.error))?;
        Ok(())
    }
}

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> ReportError {
    ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}
