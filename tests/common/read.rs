//! Helpers for the reader tests (`tests/read.rs`, `tests/read_excel.rs`): the fixtures under
//! `tests/fixtures/read`, files written into a temp dir, and reading a file whole or to its
//! first error. They call `crm_bulk::read` directly, never the binary.

use std::path::{Path, PathBuf};

use crm_bulk::read::{open, ReadError, ReadOptions, Record, Source};
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook};
use tempfile::TempDir;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/read")
        .join(name)
}

pub fn write(dir: &TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

pub fn open_default(path: &Path) -> Result<Source, ReadError> {
    open(path, &ReadOptions::default())
}

/// All records of a file that must read cleanly.
pub fn read_all(path: &Path, options: &ReadOptions) -> (Source, Vec<Record>) {
    let mut source = open(path, options).unwrap_or_else(|e| panic!("open failed: {e}"));
    let records = source
        .by_ref()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("read failed: {e}"));
    (source, records)
}

/// Every item of a file, with errors rendered as messages.
pub fn items(path: &Path) -> Vec<Result<Record, String>> {
    open_default(path)
        .unwrap_or_else(|e| panic!("open failed: {e}"))
        .map(|item| item.map_err(|e| e.to_string()))
        .collect()
}

pub fn open_error(path: &Path, options: &ReadOptions) -> String {
    match open(path, options) {
        Ok(source) => panic!("expected an error, opened {source:?}"),
        Err(e) => e.to_string(),
    }
}

pub fn row(row: u64, values: &[&str]) -> Record {
    Record {
        row,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

pub fn display(path: &Path) -> String {
    path.display().to_string()
}

/// A workbook as Excel users make them: a first sheet of notes, then the data sheet with a
/// date, a long whole number, a text cell with leading zeros, a bool, a fraction, an empty
/// row in the middle and formatted but empty rows at the end.
pub fn write_workbook(dir: &TempDir, name: &str) -> PathBuf {
    let path = dir.path().join(name);
    let mut workbook = Workbook::new();
    let notes = workbook.add_worksheet();
    notes.set_name("Notes").expect("sheet name");
    notes.write_string(0, 0, "Read me").expect("cell");

    let data = workbook.add_worksheet();
    data.set_name("Contacts 2024").expect("sheet name");
    let date_format = CellFormat::new().set_num_format("dd.mm.yyyy");
    let datetime_format = CellFormat::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (col, header) in ["Name", "Since", "Phone", "Code", "Active", "Score", "Seen"]
        .iter()
        .enumerate()
    {
        data.write_string(0, col as u16, *header).expect("header");
    }
    let since = ExcelDateTime::from_ymd(2024, 3, 1).expect("date");
    let seen = ExcelDateTime::parse_from_str("2024-03-01 13:45:10").expect("datetime");
    data.write_string(1, 0, "Acme").expect("cell");
    data.write_datetime_with_format(1, 1, &since, &date_format)
        .expect("cell");
    data.write_number(1, 2, 12345678901.0).expect("cell");
    data.write_string(1, 3, "00123").expect("cell");
    data.write_boolean(1, 4, true).expect("cell");
    data.write_number(1, 5, 1.5).expect("cell");
    data.write_datetime_with_format(1, 6, &seen, &datetime_format)
        .expect("cell");
    // Row 3 is left empty; row 4 holds a second record with gaps.
    data.write_string(3, 0, "Globex").expect("cell");
    data.write_boolean(3, 4, false).expect("cell");
    data.write_number(3, 5, 0.1 + 0.2).expect("cell");
    // Formatted but empty cells further down, as spreadsheets leave behind.
    data.write_blank(10, 0, &date_format).expect("cell");
    workbook.save(&path).expect("save workbook");
    path
}
