//! The CSV report: a header row `row,status,id,key,message,action,attempts,verified,changed`
//! and one line per row. `changed` lists attribute names separated by `; `.
//!
//! Records are built by hand rather than through serde so the column order and the
//! rendering of lists and empty ids are fixed here, in one place.
//!
//! It owns only this file's shape; row order and atomic replacement are the writer's and
//! `crate::atomic`'s.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use super::{ReportError, RowOutcome, RowSink};
use crate::atomic::AtomicFile;

/// The report's columns, in order. The first five are the documented contract.
pub const COLUMNS: [&str; 9] = [
    "row", "status", "id", "key", "message", "action", "attempts", "verified", "changed",
];

pub(crate) struct CsvReport {
    file: AtomicFile,
    out: csv::Writer<BufWriter<File>>,
}

impl CsvReport {
    pub(crate) fn create(path: &Path) -> Result<CsvReport, ReportError> {
        let file = AtomicFile::create(path)?;
        let mut out = csv::Writer::from_writer(file.writer()?);
        out.write_record(COLUMNS)
            .map_err(|source| csv_error(path, source))?;
        Ok(CsvReport { file, out })
    }
}

impl RowSink for CsvReport {
    fn write(&mut self, o: &RowOutcome) -> Result<(), ReportError> {
        let record = [
            o.row.to_string(),
            o.status.as_str().to_string(),
            o.id.clone().unwrap_or_default(),
            o.key.clone(),
            o.message.clone(),
            o.action.as_str().to_string(),
            o.attempts.to_string(),
            o.verified.to_string(),
            o.changed.join("; "),
        ];
        self.out
            .write_record(&record)
            .map_err(|source| csv_error(self.file.path(), source))
    }

    fn finish(self: Box<Self>) -> Result<(), ReportError> {
        let CsvReport { file, out } = *self;
        let writer = out
            .into_inner()
            .map_err(|e| super::io_error(file.path(), e.into_error()))?;
        Ok(file.persist(writer)?)
    }
}

fn csv_error(path: &Path, source: csv::Error) -> ReportError {
    ReportError::Csv {
        path: path.to_path_buf(),
        source,
    }
}
