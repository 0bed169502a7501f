//! NDJSON output: one JSON object per line, keyed by header, every value a string; no header
//! line and no enclosing array, so a consumer can process it line by line.
//!
//! It knows only this format: which rows and values to write is decided by the export stage.

use std::io::Write;

use super::json::write_object;
use super::{ExportError, FormatWriter};

pub struct NdjsonWriter<'a> {
    out: &'a mut dyn Write,
    headers: Vec<String>,
}

impl<'a> NdjsonWriter<'a> {
    pub fn new(out: &'a mut dyn Write) -> NdjsonWriter<'a> {
        NdjsonWriter {
            out,
            headers: Vec::new(),
        }
    }
}

impl FormatWriter for NdjsonWriter<'_> {
    fn header(&mut self, headers: &[String]) -> Result<(), ExportError> {
        self.headers = headers.to_vec();
        Ok(())
    }

    fn row(&mut self, cells: &[String]) -> Result<(), ExportError> {
        write_object(self.out, &self.headers, cells)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        self.out.flush()?;
        Ok(())
    }
}
