//! Reading spreadsheets: CSV/TSV (any common encoding and delimiter), JSON, NDJSON and Excel
//! workbooks, as one stream of [`Record`]s of text cells.
//!
//! This module owns file formats, encodings and row numbering. It knows nothing of the CRM:
//! every cell comes out as text (Excel dates as ISO `YYYY-MM-DD`, whole numbers without float
//! artefacts), and mapping headers to attributes is `map`'s job.
//!
//! Row numbers are the ones a person sees in a spreadsheet: the header is row 1, the first
//! data row is row 2. For CSV, a record that spans several lines (a quoted newline) is numbered
//! by the line it starts on... (to be written)

use std::path::PathBuf;

/// One data row: its spreadsheet row number and one text cell per header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The row number a person sees in the spreadsheet (header = row 1).
    pub row: u64,
    /// One value per header, in header order; missing trailing cells are empty strings.
    pub values: Vec<String>,
}

/// An error while reading, naming the file and, where known, the row.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}: row {row}: {message}")]
    Row {
        path: PathBuf,
        row: u64,
        message: String,
    },
}
