//! JSON output: one array of objects, one object per line, keys are the headers in column
//! order and every value is a string (empty for an unset value), so nothing is reinterpreted
//! as a number. Streams: the array is opened, each object written as it comes, then closed.
//!
//! It knows only this format: which rows and values to write is decided by the export stage.

use std::io::Write;

use super::{ExportError, FormatWriter};

pub struct JsonWriter<'a> {
    out: &'a mut dyn Write,
    headers: Vec<String>,
    rows: u64,
}

impl<'a> JsonWriter<'a> {
    pub fn new(out: &'a mut dyn Write) -> JsonWriter<'a> {
        JsonWriter {
            out,
            headers: Vec::new(),
            rows: 0,
        }
    }
}

/// Writes `{"header":"value",...}` without building a map.
pub(crate) fn write_object(
    out: &mut dyn Write,
    headers: &[String],
    cells: &[String],
) -> Result<(), ExportError> {
    out.write_all(b"{")?;
    for (i, (header, cell)) in headers.iter().zip(cells).enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, header)?;
        out.write_all(b":")?;
        serde_json::to_writer(&mut *out, cell)?;
    }
    out.write_all(b"}")?;
    Ok(())
}

impl FormatWriter for JsonWriter<'_> {
    fn header(&mut self, headers: &[String]) -> Result<(), ExportError> {
        self.headers = headers.to_vec();
        self.out.write_all(b"[")?;
        Ok(())
    }

    fn row(&mut self, cells: &[String]) -> Result<(), ExportError> {
        self.out
            .write_all(if self.rows == 0 { b"\n" } else { b",\n" })?;
        write_object(self.out, &self.headers, cells)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        self.out
            .write_all(if self.rows == 0 { b"]\n" } else { b"\n]\n" })?;
        self.out.flush()?;
        Ok(())
    }
}
