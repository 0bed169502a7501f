//! Export: turns a table's entries into rows of a file that `import` reads back unchanged.
//!
//! This module owns the stage between the client's entries and the bytes of a file: which
//! columns are written and under which headers ([`columns`]), how read-back values become the
//! importer's form ([`values`]), which entries pass `--where` ([`filter`]), how transactionslist
//! rows map onto the TRANSACTIONS attributes ([`transactions`]), one writer per output format
//! behind [`FormatWriter`] ([`csv`], [`json`], [`ndjson`], [`xlsx`]), and the all-or-nothing
//! file ([`output`]). It makes no API calls and knows nothing of the command line or the
//! terminal: `cmd::export` fetches, orchestrates and reports.

pub mod columns;
pub mod csv;
pub mod filter;
pub mod json;
pub mod ndjson;
pub mod output;
pub mod transactions;
pub mod values;
pub mod xlsx;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

pub use columns::{Column, ColumnSource, Columns, ColumnsOptions, HeaderStyle};
pub use filter::Filter;
pub use values::{Normaliser, RawValue, Warning};

/// An export failure. Data problems name the spreadsheet row (header = row 1) and column.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no attribute {column:?} in {table}; the attributes are: {valid}")]
    UnknownColumn {
        table: String,
        column: String,
        valid: String,
    },
    #[error("column {column:?} is chosen twice")]
    DuplicateColumn { column: String },
    #[error("filter {filter:?} is not of the form Attribute=value")]
    BadFilter { filter: String },
    #[error("row {row}, column {column:?}: {value:?} {problem}")]
    Cell {
        row: usize,
        column: String,
        value: String,
        problem: String,
    },
    #[error("{what} has more rows than an Excel sheet holds (1,048,576 with the header); use csv or ndjson")]
    TooManyRows { what: String },
    #[error("cannot create a temporary file in {}", dir.display())]
    TempFile {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot move the finished export into place at {}", path.display())]
    Persist {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the export was interrupted; no file was written")]
    Interrupted,
    #[error("cannot write the output")]
    Io(#[from] std::io::Error),
    #[error("cannot write CSV")]
    Csv(#[from] ::csv::Error),
    #[error("cannot write JSON")]
    Json(#[from] serde_json::Error),
    #[error("cannot write the Excel workbook")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

impl From<crate::atomic::AtomicError> for ExportError {
    fn from(err: crate::atomic::AtomicError) -> ExportError {
        use crate::atomic::AtomicError;
        match err {
            AtomicError::Create { dir, source, .. } => ExportError::TempFile { dir, source },
            AtomicError::Write { source, .. } => ExportError::Io(source),
            AtomicError::Rename { path, source } => ExportError::Persist { path, source },
        }
    }
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// One JSON array of objects keyed by header.
    Json,
    /// One JSON object per line.
    Ndjson,
    Xlsx,
}

impl Format {
    /// The format a file name implies (`.csv`, `.json`, `.ndjson`/`.jsonl`, `.xlsx`), if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// A writer of this format onto `out`. The sheet name is used by xlsx only.
    pub fn writer<'a>(self, out: &'a mut dyn Write, sheet: &str) -> Box<dyn FormatWriter + 'a> {
        match self {
            Format::Csv => Box::new(csv::CsvWriter::new(out)),
            Format::Json => Box::new(json::JsonWriter::new(out)),
            Format::Ndjson => Box::new(ndjson::NdjsonWriter::new(out)),
            Format::Xlsx => Box::new(xlsx::XlsxWriter::new(out, sheet)),
        }
    }
}

/// One output format. Every cell is a string: the importer's form, never a typed value, so
/// leading zeros and long digit strings survive every format.
pub trait FormatWriter {
    /// Called once, before any row.
    fn header(&mut self, headers: &[String]) -> Result<(), ExportError>;
    /// Called once per entry, with as many cells as headers.
    fn row(&mut self, cells: &[String]) -> Result<(), ExportError>;
    /// Completes the file (closing brackets, the xlsx archive) and flushes it.
    fn finish(self: Box<Self>) -> Result<(), ExportError>;
}

/// One entry as the export reads it: an id and a read-back value per attribute code.
pub trait Record {
    fn id(&self) -> &str;
    /// The read-back value of an attribute; [`RawValue::Text`] of `""` when it is unset.
    fn value(&self, code: &str) -> RawValue<'_>;
}

impl Record for crate::client::Entry {
    fn id(&self) -> &str {
        &self.id
    }

    fn value(&self, code: &str) -> RawValue<'_> {
        match self.values.get(code) {
            Some(crate::client::FieldValue::Text(text)) => RawValue::Text(text),
            Some(crate::client::FieldValue::Unknown) => RawValue::Unknown,
            None => RawValue::Text(""),
        }
    }
}

/// What the writing loop reports to and checks with its caller.
pub struct Hooks<'a> {
    /// Called after each row written, with the number written so far.
    pub progress: &'a dyn Fn(u64),
    /// Set (by a Ctrl-C handler) to stop before the next row.
    pub cancel: &'a AtomicBool,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Entries read from the API.
    pub read: u64,
    /// Rows written (entries that passed every filter).
    pub written: u64,
    /// One per attribute and kind of problem.
    pub warnings: Vec<Warning>,
}

/// Writes the header and one row per record that passes `filters`, streaming: one row buffer
/// is reused, no copy of the table is made. Does not call [`FormatWriter::finish`] on error,
/// so the caller discards the output.
pub fn write_records<'r, R: Record + 'r>(
    records: impl IntoIterator<Item = &'r R>,
    columns: &Columns,
    filters: &[Filter],
    normaliser: &mut Normaliser,
    mut writer: Box<dyn FormatWriter + '_>,
    hooks: &Hooks<'_>,
) -> Result<Summary, ExportError> {
    writer.header(&columns.headers())?;
    let mut summary = Summary::default();
    let mut cells: Vec<String> = Vec::with_capacity(columns.len());
    for record in records {
        if hooks.cancel.load(Ordering::Relaxed) {
            return Err(ExportError::Interrupted);
        }
        summary.read += 1;
        if !filters.iter().all(|f| f.matches(record, normaliser)) {
            continue;
        }
        normaliser.row(record, columns, &mut cells);
        writer.row(&cells)?;
        summary.written += 1;
        (hooks.progress)(summary.written);
    }
    writer.finish()?;
    summary.warnings = normaliser.warnings();
    Ok(summary)
}

/// Row order of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// By the name attribute (the import key), ties by the other columns in order: the same
    /// data gives the same file on every instance, whatever ids it was given. Tables without
    /// a name attribute (transactions) keep the API's order.
    #[default]
    Name,
    /// As the API lists them (by id).
    Api,
}

/// Sorts references to records for [`Order::Name`]; no record is copied. Values compare as
/// plain text (byte order), so the order does not depend on a locale.
pub fn sort_records<R: Record>(
    records: &mut [&R],
    table: &crate::schema::TableSchema,
    columns: &Columns,
) {
    let Some(name) = table.name_attribute() else {
        return;
    };
    let text = |r: &R, code: &str| match r.value(code) {
        RawValue::Text(t) => t.to_string(),
        RawValue::Unknown => String::new(),
    };
    let codes: Vec<&str> = std::iter::once(name.code.as_str())
        .chain(columns.iter().filter_map(|c| match &c.source {
            ColumnSource::Attribute { code, .. } => Some(code.as_str()),
            ColumnSource::Id => None,
        }))
        .collect();
    records.sort_by(|a, b| {
        codes
            .iter()
            .map(|code| match (a.value(code), b.value(code)) {
                (RawValue::Text(x), RawValue::Text(y)) => x.cmp(y),
                _ => text(a, code).cmp(&text(b, code)),
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
}

/// Shortens a value for an error message.
pub(crate) fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        return value.to_string();
    }
    let head: String = value.chars().take(MAX).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::values::ValueOptions;
    use crate::schema::Schema;
    use calamine::{Data, Reader};

    /// A record keyed by attribute code, for tests.
    struct Rec {
        id: String,
        values: Vec<(String, Option<String>)>,
    }

    impl Record for Rec {
        fn id(&self) -> &str {
            &self.id
        }
        fn value(&self, code: &str) -> RawValue<'_> {
            match self.values.iter().find(|(c, _)| c == code) {
                Some((_, Some(v))) => RawValue::Text(v),
                Some((_, None)) => RawValue::Unknown,
                None => RawValue::Text(""),
            }
        }
    }

    const NAMES: [&str; 6] = [
        "Acme, Inc.",
        "The \"Best\" Co",
        "Line one\nline two\r\nthree",
        "ООО «Ромашка» 株式会社",
        "=HYPERLINK(\"http://x\")",
        "  spaced  ",
    ];

    fn sample() -> (Vec<Rec>, Columns) {
        let table = table("companies");
        let erp = table.find("ERP ID").expect("ERP ID").code.clone();
        let columns = Columns::resolve(
            &table,
            &ColumnsOptions {
                chosen: Some(vec!["Name".into(), "ERP ID".into(), "People".into()]),
                ..Default::default()
            },
        )
        .expect("columns");
        let records = NAMES
            .iter()
            .enumerate()
            .map(|(i, name)| Rec {
                id: (i + 1).to_string(),
                values: vec![
                    ("org_name".into(), Some(name.to_string())),
                    (erp.clone(), Some(format!("00{i}"))),
                    ("org_people".into(), None),
                ],
            })
            .collect();
        (records, columns)
    }

    fn export(format: Format, excel_safe: bool) -> (Vec<u8>, Summary) {
        let (records, columns) = sample();
        let mut normaliser = Normaliser::new(ValueOptions {
            date_format: "%e/%b/%y".into(),
            excel_safe,
        });
        let mut out = Vec::new();
        let summary = write_all(
            &records,
            &columns,
            &[],
            &mut normaliser,
            format.writer(&mut out, "companies"),
        )
        .expect("exports");
        (out, summary)
    }

    fn table(name: &str) -> crate::schema::TableSchema {
        Schema::default_sandbox()
            .table(name)
            .expect("table")
            .clone()
    }

    /// `write_records` with no progress and nothing cancelling.
    fn write_all(
        records: &[Rec],
        columns: &Columns,
        filters: &[Filter],
        normaliser: &mut Normaliser,
        writer: Box<dyn FormatWriter + '_>,
    ) -> Result<Summary, ExportError> {
        let cancel = AtomicBool::new(false);
        let hooks = Hooks {
            progress: &|_| {},
            cancel: &cancel,
        };
        write_records(records, columns, filters, normaliser, writer, &hooks)
    }

    fn expected_rows() -> Vec<Vec<String>> {
        NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| vec![n.to_string(), format!("00{i}"), String::new()])
            .collect()
    }

    #[test]
    fn csv_reads_back_with_the_csv_crate() {
        let (bytes, summary) = export(Format::Csv, false);
        assert_eq!((summary.read, summary.written), (6, 6));
        assert_eq!(summary.warnings.len(), 1, "People is Unsupported");
        let mut reader = ::csv::Reader::from_reader(bytes.as_slice());
        let headers: Vec<String> = reader
            .headers()
            .expect("headers")
            .iter()
            .map(String::from)
            .collect();
        assert_eq!(headers, vec!["Name", "ERP ID", "People"]);
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("record").iter().map(String::from).collect())
            .collect();
        assert_eq!(rows, expected_rows());
    }

    #[test]
    fn json_and_ndjson_parse_back_with_string_values() {
        let (bytes, _) = export(Format::Json, false);
        let value: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
        let array = value.as_array().expect("array");
        assert_eq!(array.len(), 6);
        for (object, row) in array.iter().zip(expected_rows()) {
            let keys: Vec<&String> = object.as_object().expect("object").keys().collect();
            assert_eq!(keys, vec!["Name", "ERP ID", "People"]);
            assert_eq!(object["Name"], row[0].as_str());
            assert_eq!(
                object["ERP ID"],
                row[1].as_str(),
                "leading zeros stay a string"
            );
        }

        let (bytes, _) = export(Format::Ndjson, false);
        let text = String::from_utf8(bytes).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.len(),
            6,
            "one line per row even with newlines in values"
        );
        for (line, row) in lines.iter().zip(expected_rows()) {
            let object: serde_json::Value = serde_json::from_str(line).expect("line is JSON");
            assert_eq!(object["Name"], row[0].as_str());
            assert_eq!(object["People"], "");
        }
    }

    #[test]
    fn empty_tables_are_valid_files() {
        let table = table("products");
        let columns = Columns::resolve(&table, &ColumnsOptions::default()).expect("columns");
        for format in [Format::Csv, Format::Json, Format::Ndjson, Format::Xlsx] {
            let mut out = Vec::new();
            let mut n = Normaliser::new(ValueOptions::default());
            let records: Vec<Rec> = Vec::new();
            write_all(
                &records,
                &columns,
                &[],
                &mut n,
                format.writer(&mut out, "products"),
            )
            .expect("exports");
            match format {
                Format::Json => assert_eq!(
                    serde_json::from_slice::<serde_json::Value>(&out).expect("json"),
                    serde_json::json!([])
                ),
                Format::Ndjson => assert!(out.is_empty()),
                Format::Csv => assert_eq!(
                    String::from_utf8(out).expect("utf-8"),
                    "Product Name,Price,SKU,Description\n"
                ),
                Format::Xlsx => assert!(out.starts_with(b"PK"), "a zip archive"),
            }
        }
    }

    #[test]
    fn xlsx_reads_back_with_calamine_as_strings() {
        let (bytes, _) = export(Format::Xlsx, false);
        let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("opens");
        let range = workbook
            .worksheet_range("companies")
            .expect("sheet named after the table");
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        assert_eq!(
            rows[0],
            vec![
                Data::String("Name".into()),
                Data::String("ERP ID".into()),
                Data::String("People".into())
            ]
        );
        for (row, expected) in rows[1..].iter().zip(expected_rows()) {
            assert_eq!(row[0], Data::String(expected[0].clone()));
            assert_eq!(
                row[1],
                Data::String(expected[1].clone()),
                "strings, so leading zeros survive"
            );
            assert_eq!(row.get(2).cloned().unwrap_or(Data::Empty), Data::Empty);
        }
        assert_eq!(rows.len(), 7);
    }

    #[test]
    fn excel_safe_prefixes_formula_cells_only_when_asked() {
        let (plain, _) = export(Format::Csv, false);
        assert!(String::from_utf8_lossy(&plain).contains("\n\"=HYPERLINK"));
        let (safe, _) = export(Format::Csv, true);
        let mut reader = ::csv::Reader::from_reader(safe.as_slice());
        let names: Vec<String> = reader
            .records()
            .map(|r| r.expect("record")[0].to_string())
            .collect();
        assert_eq!(names[4], "'=HYPERLINK(\"http://x\")");
        assert_eq!(names[0], "Acme, Inc.");
    }

    #[test]
    fn cancel_stops_before_the_next_row_and_skips_finish() {
        let (records, columns) = sample();
        let mut n = Normaliser::new(ValueOptions::default());
        let cancel = AtomicBool::new(false);
        let progress = |written: u64| {
            if written == 2 {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let hooks = Hooks {
            progress: &progress,
            cancel: &cancel,
        };
        let mut out = Vec::new();
        let err = write_records(
            &records,
            &columns,
            &[],
            &mut n,
            Format::Json.writer(&mut out, "x"),
            &hooks,
        );
        assert!(matches!(err, Err(ExportError::Interrupted)));
        assert!(
            serde_json::from_slice::<serde_json::Value>(&out).is_err(),
            "the array was never closed"
        );
    }

    #[test]
    fn filters_select_rows() {
        let (records, columns) = sample();
        let table = table("companies");
        let filters = vec![Filter::parse(&table, "Name=acme, inc.").expect("filter")];
        let mut n = Normaliser::new(ValueOptions::default());
        let mut out = Vec::new();
        let summary = write_all(
            &records,
            &columns,
            &filters,
            &mut n,
            Format::Csv.writer(&mut out, "x"),
        )
        .expect("ok");
        assert_eq!((summary.read, summary.written), (6, 1));
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "Name,ERP ID,People\n\"Acme, Inc.\",000,\n"
        );
    }

    #[test]
    fn name_order_is_by_name_then_other_columns() {
        let (records, columns) = sample();
        let table = table("companies");
        let mut refs: Vec<&Rec> = records.iter().rev().collect();
        sort_records(&mut refs, &table, &columns);
        let mut names: Vec<&str> = NAMES.to_vec();
        names.sort();
        let sorted: Vec<&str> = refs
            .iter()
            .map(|r| r.values[0].1.as_deref().expect("name"))
            .collect();
        assert_eq!(sorted, names);

        let dup = |id: &str, erp: &str| Rec {
            id: id.into(),
            values: vec![
                ("org_name".into(), Some("Same".into())),
                (columns_code(&table, "ERP ID"), Some(erp.into())),
            ],
        };
        let twins = [dup("1", "b"), dup("2", "a")];
        let mut refs: Vec<&Rec> = twins.iter().collect();
        sort_records(&mut refs, &table, &columns);
        assert_eq!(
            refs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            vec!["2", "1"]
        );
    }

    fn columns_code(table: &crate::schema::TableSchema, name: &str) -> String {
        table.find(name).expect("attribute").code.clone()
    }

    #[test]
    fn format_from_file_name() {
        assert_eq!(Format::from_path(Path::new("a/b.XLSX")), Some(Format::Xlsx));
        assert_eq!(
            Format::from_path(Path::new("b.jsonl")),
            Some(Format::Ndjson)
        );
        assert_eq!(Format::from_path(Path::new("b.json")), Some(Format::Json));
        assert_eq!(Format::from_path(Path::new("b.txt")), None);
        assert_eq!(Format::from_path(Path::new("-")), None);
    }
}
