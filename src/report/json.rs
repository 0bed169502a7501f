//! The JSON report: one array of [`RowOutcome`] objects, fields in the CSV column order.
//!
//! Rows are streamed into the temporary file one by one (memory stays flat) and the closing
//! bracket is written at finish, just before the rename, so the file at the report path is
//! always a complete, parseable array.
//!
//! It owns only this file's shape; row order and atomic replacement are the writer's and
//! `crate::atomic`'s.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::io_error;
use super::{ReportError, RowOutcome, RowSink};
use crate::atomic::AtomicFile;

pub(crate) struct JsonReport {
    file: AtomicFile,
    out: BufWriter<File>,
    rows: u64,
}

impl JsonReport {
    pub(crate) fn create(path: &Path) -> Result<JsonReport, ReportError> {
        let file = AtomicFile::create(path)?;
        let mut out = file.writer()?;
        out.write_all(b"[").map_err(|e| io_error(path, e))?;
        Ok(JsonReport { file, out, rows: 0 })
    }
}

impl RowSink for JsonReport {
    fn write(&mut self, outcome: &RowOutcome) -> Result<(), ReportError> {
        let path = self.file.path();
        let separator: &[u8] = if self.rows == 0 { b"\n  " } else { b",\n  " };
        self.out
            .write_all(separator)
            .map_err(|e| io_error(path, e))?;
        serde_json::to_writer(&mut self.out, outcome).map_err(|source| ReportError::Json {
            path: path.to_path_buf(),
            source,
        })?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ReportError> {
        let JsonReport { file, mut out, .. } = *self;
        out.write_all(b"\n]\n")
            .map_err(|e| io_error(file.path(), e))?;
        Ok(file.persist(out)?)
    }
}
