//! CSV output: UTF-8, comma-separated, a header row, fields quoted only where needed (commas,
//! quotes, line breaks), by the `csv` crate. No byte-order mark, so other tools read the
//! first header cleanly; the importer reads UTF-8 with or without one.
//!
//! It knows only this format: which rows and values to write is decided by the export stage.

use std::io::Write;

use super::{ExportError, FormatWriter};

pub struct CsvWriter<'a> {
    inner: csv::Writer<&'a mut dyn Write>,
}

impl<'a> CsvWriter<'a> {
    pub fn new(out: &'a mut dyn Write) -> CsvWriter<'a> {
        CsvWriter {
            inner: csv::WriterBuilder::new().from_writer(out),
        }
    }
}

impl FormatWriter for CsvWriter<'_> {
    fn header(&mut self, headers: &[String]) -> Result<(), ExportError> {
        Ok(self.inner.write_record(headers)?)
    }

    fn row(&mut self, cells: &[String]) -> Result<(), ExportError> {
        Ok(self.inner.write_record(cells)?)
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        Ok(self.inner.flush()?)
    }
}
