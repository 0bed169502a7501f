//! Reading spreadsheets: CSV/TSV (any common encoding and delimiter), JSON, NDJSON and Excel
//! workbooks, as one stream of [`Record`]s of text cells.
//!
//! This module owns file formats, encodings and row numbering. It knows nothing of the CRM:
//! every cell comes out as text (Excel dates as ISO `YYYY-MM-DD`, whole numbers without float
//! artefacts), and mapping headers to attributes is `map`'s job. It must not print anything.
//!
//! # Row numbers
//!
//! Row numbers are the ones a person sees when the file is opened in a spreadsheet program:
//! the header is row 1 and the first data record is row 2.
//!
//! * CSV/TSV: one record is one row, even when a quoted value holds line breaks (Excel shows
//!   such a record as one row), so a record after a multi-line value keeps the number Excel
//!   shows. Blank lines count as rows (Excel shows them as empty rows) but yield no record;
//!   records whose cells are all empty or blank are skipped the same way.
//! * Excel workbooks: the sheet's own row numbers. The header is the first non-empty row
//!   (row 1 in almost every file); empty rows are skipped but keep their numbers.
//! * JSON array: the objects are numbered as if their keys formed a header row: the first
//!   object is row 2.
//! * NDJSON: the object on line N is row N + 1 (blank lines are skipped but counted), so the
//!   first line is row 2 like the first data row of a CSV file; messages also give the line.
//!
//! # Detection
//!
//! The format comes from [`ReadOptions::format`], else from the extension (`.csv` `.tsv`
//! `.txt` → CSV; `.json` → JSON, or NDJSON when the file holds one object per line;
//! `.ndjson` `.jsonl` → NDJSON; `.xlsx` `.xlsm` → Xlsx; `.xls` → Xls; `.ods` → Ods), else
//! from the content (zip and OLE signatures for workbooks, a leading `[` or `{` for JSON,
//! anything else is CSV). For CSV the encoding is a byte-order mark if present, else UTF-8
//! if the whole file is valid UTF-8, else Windows-1252; the delimiter is the one of `,` `;`
//! tab `|` that splits the header and the first records into the same number of fields.
//! See `docs/input-formats.md`.

mod delimited;
mod encoding;
mod excel;
mod json;

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One data row: its spreadsheet row number and one text cell per header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The row number a person sees in the spreadsheet (header = row 1).
    pub row: u64,
    /// One value per header, in header order; missing trailing cells are empty strings.
    pub values: Vec<String>,
}

/// An error while reading, naming the file and, where known, the row and column.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file as a whole cannot be read (missing, empty, binary, unknown sheet, ...).
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    /// One row is broken (ragged, unclosed quote, not an object, ...).
    #[error("{path}: row {row}: {message}")]
    Row {
        path: PathBuf,
        row: u64,
        message: String,
    },
    /// One cell is broken (an Excel error cell, a nested JSON value, invalid UTF-8, ...).
    #[error("{path}: row {row}, column \"{column}\": {message}")]
    Cell {
        path: PathBuf,
        row: u64,
        column: String,
        message: String,
    },
}

impl ReadError {
    /// The spreadsheet row the error is about, if it is about one row.
    pub fn row(&self) -> Option<u64> {
        match self {
            ReadError::File { .. } => None,
            ReadError::Row { row, .. } | ReadError::Cell { row, .. } => Some(*row),
        }
    }

    fn file(path: &Path, message: impl Into<String>) -> ReadError {
        ReadError::File {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    fn at_row(path: &Path, row: u64, message: impl Into<String>) -> ReadError {
        ReadError::Row {
            path: path.to_path_buf(),
            row,
            message: message.into(),
        }
    }

    fn at_cell(path: &Path, row: u64, column: &str, message: impl Into<String>) -> ReadError {
        ReadError::Cell {
            path: path.to_path_buf(),
            row,
            column: column.to_string(),
            message: message.into(),
        }
    }
}

/// A spreadsheet file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Delimited text: CSV, TSV, semicolon- or pipe-separated.
    Csv,
    /// One JSON array of objects.
    Json,
    /// Newline-delimited JSON: one object per line.
    Ndjson,
    Xlsx,
    Xls,
    Ods,
}

impl Format {
    /// All formats, in the order help texts list them.
    pub const ALL: [Format; 6] = [
        Format::Csv,
        Format::Json,
        Format::Ndjson,
        Format::Xlsx,
        Format::Xls,
        Format::Ods,
    ];

    /// The lower-case name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Xlsx => "xlsx",
            Format::Xls => "xls",
            Format::Ods => "ods",
        }
    }

    /// The format an extension stands for (`None` for unknown extensions, and for `.json`,
    /// which may hold JSON or NDJSON and needs a look at the content).
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" | "tab" => Some(Format::Csv),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            "xls" => Some(Format::Xls),
            "ods" => Some(Format::Ods),
            _ => None,
        }
    }

    fn is_workbook(self) -> bool {
        matches!(self, Format::Xlsx | Format::Xls | Format::Ods)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        let wanted = s.trim().to_ascii_lowercase();
        let wanted = match wanted.as_str() {
            "tsv" | "txt" => "csv",
            "jsonl" => "ndjson",
            "xlsm" => "xlsx",
            other => other,
        };
        Format::ALL
            .into_iter()
            .find(|f| f.name() == wanted)
            .ok_or_else(|| {
                format!("unknown format \"{s}\"; use csv, json, ndjson, xlsx, xls or ods")
            })
    }
}

/// How to read a file; every field left `None` is detected.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The file format; detected from the extension, then the content.
    pub format: Option<Format>,
    /// CSV only: the field delimiter; sniffed among `,` `;` tab `|`.
    pub delimiter: Option<u8>,
    /// CSV only: an encoding label ("utf-8", "utf-16le", "utf-16be", "windows-1252", or any
    /// WHATWG label such as "latin1"); detected from a byte-order mark and the bytes.
    pub encoding: Option<String>,
    /// Workbooks only: the sheet to read (default the first).
    pub sheet: Option<String>,
}

/// An open file: its headers, what was detected, and its records as an iterator.
///
/// CSV and NDJSON are streamed (memory does not grow with the number of rows); JSON arrays
/// and workbook sheets are loaded whole. Iteration continues after a row error, so callers
/// can report every broken row; a file-level error (an I/O failure, an unclosed quote that
/// swallowed the rest of the file) is the last item.
pub struct Source {
    /// The file, as given.
    pub path: PathBuf,
    pub format: Format,
    /// Header texts with surrounding whitespace trimmed; never blank, never duplicated.
    pub headers: Vec<String>,
    /// The delimiter used (CSV only).
    pub delimiter: Option<u8>,
    /// The encoding used: "utf-8", "utf-16le", "utf-16be", "windows-1252" (or another
    /// encoding given as an option); "n/a" for workbooks, which carry their own.
    pub encoding: &'static str,
    rows: Rows,
}

enum Rows {
    Delimited(Box<delimited::DelimitedRows>),
    Ndjson(json::NdjsonRows),
    Loaded(std::vec::IntoIter<Result<Record, ReadError>>),
    Sheet(excel::SheetRows),
}

impl Iterator for Source {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.rows {
            Rows::Delimited(rows) => rows.next(),
            Rows::Ndjson(rows) => rows.next(),
            Rows::Loaded(rows) => rows.next(),
            Rows::Sheet(rows) => rows.next(),
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("path", &self.path)
            .field("format", &self.format)
            .field("headers", &self.headers)
            .field("delimiter", &self.delimiter.map(char::from))
            .field("encoding", &self.encoding)
            .finish_non_exhaustive()
    }
}

/// Opens a spreadsheet file and reads its header row.
pub fn open(path: &Path, options: &ReadOptions) -> Result<Source, ReadError> {
    let head = read_head(path)?;
    let format = match options.format {
        Some(format) => format,
        None => detect_format(path, &head),
    };
    if !format.is_workbook() {
        reject_workbook_bytes(path, &head)?;
    }
    let opened = match format {
        Format::Csv => delimited::open(path, &head, options)?,
        Format::Json => json::open_array(path)?,
        Format::Ndjson => json::open_ndjson(path)?,
        Format::Xlsx | Format::Xls | Format::Ods => excel::open(path, format, options)?,
    };
    Ok(Source {
        path: path.to_path_buf(),
        format,
        headers: opened.headers,
        delimiter: opened.delimiter,
        encoding: opened.encoding,
        rows: opened.rows,
    })
}

/// What a format reader hands back to [`open`].
struct Opened {
    headers: Vec<String>,
    delimiter: Option<u8>,
    encoding: &'static str,
    rows: Rows,
}

/// How many bytes of the file detection looks at.
const HEAD_LEN: usize = 64 * 1024;

fn read_head(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = File::open(path).map_err(|e| ReadError::file(path, format!("cannot open: {e}")))?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(ReadError::file(path, "is a directory, not a file"));
    }
    let mut head = Vec::with_capacity(HEAD_LEN);
    file.take(HEAD_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|e| ReadError::file(path, format!("cannot read: {e}")))?;
    Ok(head)
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

fn detect_format(path: &Path, head: &[u8]) -> Format {
    let is_json_ext = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json_ext {
        return if json::looks_like_ndjson(head) {
            Format::Ndjson
        } else {
            Format::Json
        };
    }
    if let Some(format) = Format::from_extension(path) {
        return format;
    }
    sniff_format(head)
}

/// The format of a file with an unknown extension, judged by its first bytes.
fn sniff_format(head: &[u8]) -> Format {
    if head.starts_with(ZIP_MAGIC) {
        // An OpenDocument file stores its mimetype uncompressed as the first zip entry.
        let ods = b"application/vnd.oasis.opendocument.spreadsheet";
        let window = &head[..head.len().min(200)];
        return if window.windows(ods.len()).any(|w| w == ods) {
            Format::Ods
        } else {
            Format::Xlsx
        };
    }
    if head.starts_with(OLE_MAGIC) {
        return Format::Xls;
    }
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Format::Json,
        Some(b'{') if json::looks_like_ndjson(head) => Format::Ndjson,
        Some(b'{') => Format::Json,
        _ => Format::Csv,
    }
}

/// A workbook saved under a text extension would otherwise be read as garbage text.
fn reject_workbook_bytes(path: &Path, head: &[u8]) -> Result<(), ReadError> {
    let hint = if head.starts_with(ZIP_MAGIC) {
        sniff_format(head)
    } else if head.starts_with(OLE_MAGIC) {
        Format::Xls
    } else {
        return Ok(());
    };
    Err(ReadError::file(
        path,
        format!(
            "looks like a binary file (an Excel or OpenDocument workbook, not text); \
             rename it to .{hint} or pass the format {hint}"
        ),
    ))
}

/// Trims headers and checks that none is blank or repeated. Blank headers at the end are
/// dropped (spreadsheet programs often export trailing empty columns), so the readers treat
/// cells past the last header as extra and accept them only when empty.
fn check_headers(path: &Path, header_row: u64, raw: Vec<String>) -> Result<Vec<String>, ReadError> {
    let mut headers: Vec<String> = raw
        .into_iter()
        .map(|h| {
            h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                .to_string()
        })
        .collect();
    while headers.last().is_some_and(|h| h.is_empty()) {
        headers.pop();
    }
    if headers.is_empty() {
        return Err(ReadError::at_row(
            path,
            header_row,
            "the header row is empty",
        ));
    }
    for (i, header) in headers.iter().enumerate() {
        if header.is_empty() {
            return Err(ReadError::at_row(
                path,
                header_row,
                format!(
                    "column {} ({}) has a blank header; every column needs a name",
                    i + 1,
                    column_letter(i)
                ),
            ));
        }
        if let Some(first) = headers[..i].iter().position(|h| h == header) {
            return Err(ReadError::at_row(
                path,
                header_row,
                format!(
                    "columns {} ({}) and {} ({}) have the same header \"{}\"",
                    first + 1,
                    column_letter(first),
                    i + 1,
                    column_letter(i),
                    shorten(header)
                ),
            ));
        }
    }
    Ok(headers)
}

/// The spreadsheet letter of a zero-based column index: 0 → A, 26 → AA.
fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8_lossy(&letters).into_owned()
}

/// A value cut to a length that fits in one message line.
fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sources move to worker threads; this stops compiling if one is no longer `Send`.
    #[test]
    fn source_is_send() {
        fn is_send<T: Send>() {}
        is_send::<Source>();
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn format_names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
        }
        assert_eq!("TSV".parse::<Format>(), Ok(Format::Csv));
        assert!("pdf".parse::<Format>().is_err());
    }
}
