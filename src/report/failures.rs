//! The failures file (`--failures`): the original rows that were invalid or failed, with the
//! original header row and cells exactly as read, plus one last column [`ERROR_COLUMN`]
//! saying why. Once the rows are fixed, the file imports again unchanged: the import's header
//! mapping ignores a column with that reserved name.
//!
//! It owns only this file's shape; deciding which rows failed is the report writer's job.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use super::io_error;
use super::ReportError;
use crate::atomic::AtomicFile;

/// The reserved header of the error column. Chosen so it cannot be mistaken for a CRM
/// attribute; the importer's header mapping must ignore a column with this name.
pub const ERROR_COLUMN: &str = "crm-bulk error";

/// Writes the failures file; rows must be given in row order (the report writer does this).
pub struct FailuresWriter {
    file: AtomicFile,
    out: csv::Writer<BufWriter<File>>,
    /// Index of an existing error column in the input (a failures file loaded again): its
    /// old cell is dropped so errors do not pile up column after column.
    old_error: Option<usize>,
    width: usize,
}

impl FailuresWriter {
    /// Creates the file (under a temporary name until [`finish`](Self::finish)) and writes the
    /// header row: the input's headers, then [`ERROR_COLUMN`].
    pub fn create(path: &Path, headers: &[String]) -> Result<FailuresWriter, ReportError> {
        let file = AtomicFile::create(path)?;
        // Flexible: a short row (missing trailing cells) is padded, but a malformed input
        // row must still be written rather than lost.
        let mut out = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(file.writer()?);
        let old_error = headers.iter().position(|h| h == ERROR_COLUMN);
        let mut header: Vec<&str> = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != old_error)
            .map(|(_, h)| h.as_str())
            .collect();
        header.push(ERROR_COLUMN);
        out.write_record(&header).map_err(|e| csv_error(path, e))?;
        Ok(FailuresWriter {
            file,
            out,
            old_error,
            width: headers.len(),
        })
    }

    /// Writes one original row with its error message as the last cell.
    pub fn write(&mut self, cells: &[String], error: &str) -> Result<(), ReportError> {
        // Exactly the header's width, so the error always sits under its header.
        let mut record: Vec<&str> = (0..self.width)
            .filter(|i| Some(*i) != self.old_error)
            .map(|i| cells.get(i).map_or("", String::as_str))
            .collect();
        record.push(error);
        self.out
            .write_record(&record)
            .map_err(|e| csv_error(self.file.path(), e))
    }

    /// Completes the file and moves it into place.
    pub fn finish(self) -> Result<(), ReportError> {
        let FailuresWriter { file, out, .. } = self;
        let writer = out
            .into_inner()
            .map_err(|e| io_error(file.path(), e.into_error()))?;
        Ok(file.persist(writer)?)
    }
}

fn csv_error(path: &Path, source: csv::Error) -> ReportError {
    ReportError::Csv {
        path: path.to_path_buf(),
        source,
    }
}
