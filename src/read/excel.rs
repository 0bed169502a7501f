//! Workbooks (`.xlsx`, `.xls`, `.ods`) through calamine: sheet choice, the header row, and
//! cells as the text a person sees: dates as ISO `YYYY-MM-DD` (`YYYY-MM-DD HH:MM:SS` with a
//! time), whole numbers without float artefacts, text cells untouched (leading zeros stay),
//! `true`/`false`, and error cells (`#DIV/0!`) as cell errors.
//!
//! A sheet is loaded whole (workbooks are zip or OLE containers and cannot be streamed
//! row by row); rows are converted lazily as they are iterated. This module must not know
//! about delimited text or JSON.

use std::fs::File;
use std::io::BufReader;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Cell, Data, DataRef, ExcelDateTime, Range, Reader, Sheets, Xlsx};

use super::{check_headers, column_letter, Format, Opened, ReadError, ReadOptions, Record, Rows};

pub(super) fn open(
    path: &Path,
    format: Format,
    options: &ReadOptions,
) -> Result<Opened, ReadError> {
    // calamine parses untrusted containers; a panic deep inside it must become an error
    // about this file, not a crash of the whole run.
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        load_sheet(path, format, options.sheet.as_deref())
    }));
    let (sheet, range) = loaded.map_err(|_| {
        ReadError::file(
            path,
            format!("cannot be read as an {format} workbook (the file may be damaged)"),
        )
    })??;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let header_index = (0..range.height())
        .find(|&i| !row_is_blank(row_cells(&range, i)))
        .ok_or_else(|| ReadError::file(path, format!("sheet \"{sheet}\" is empty")))?;
    let header_row = u64::from(row0) + header_index as u64 + 1;
    let mut raw = Vec::new();
    for (i, cell) in row_cells(&range, header_index).iter().enumerate() {
        let text = cell_text(cell).map_err(|message| {
            ReadError::at_row(
                path,
                header_row,
                format!(
                    "the header in column {}: {message}",
                    column_letter(col0 as usize + i)
                ),
            )
        })?;
        raw.push(text);
    }
    let headers = check_headers(path, header_row, raw)?;
    let rows = SheetRows {
        path: path.to_path_buf(),
        range,
        headers: headers.clone(),
        next: header_index + 1,
        row0: u64::from(row0),
        col0: col0 as usize,
    };
    Ok(Opened {
        headers,
        delimiter: None,
        encoding: "n/a",
        rows: Rows::Sheet(rows),
    })
}

/// Opens the workbook and loads the chosen sheet: by exact name, else ignoring case and
/// surrounding spaces, else the first sheet when none is asked for.
fn load_sheet(
    path: &Path,
    format: Format,
    wanted: Option<&str>,
) -> Result<(String, Range<Data>), ReadError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        ReadError::file(path, format!("is not a readable {format} workbook: {e}"))
    };
    let mut workbook: Sheets<BufReader<File>> = match format {
        Format::Xls => Sheets::Xls(open_workbook(path).map_err(|e| unreadable(&e))?),
        Format::Ods => Sheets::Ods(open_workbook(path).map_err(|e| unreadable(&e))?),
        _ => Sheets::Xlsx(open_workbook(path).map_err(|e| unreadable(&e))?),
    };
    let names = workbook.sheet_names();
    let name = match wanted {
        None => names.first().cloned(),
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| {
                names
                    .iter()
                    .find(|n| n.trim().eq_ignore_ascii_case(wanted.trim()))
            })
            .cloned(),
    };
    let Some(name) = name else {
        let list = names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(match wanted {
            Some(wanted) => ReadError::file(
                path,
                format!("has no sheet \"{wanted}\"; its sheets are {list}"),
            ),
            None => ReadError::file(path, "has no sheets"),
        });
    };
    let range = match &mut workbook {
        Sheets::Xlsx(xlsx) => xlsx_range(xlsx, &name, path)?,
        other => other
            .worksheet_range(&name)
            .map_err(|e| ReadError::file(path, format!("cannot read sheet \"{name}\": {e}")))?,
    };
    Ok((name, range))
}

/// The most cells a loaded sheet's grid may span (about 1.3 GB as calamine cells).
const MAX_GRID_CELLS: u64 = 40_000_000;

/// Loads an xlsx sheet like calamine's `worksheet_range`, but refuses a grid too large to
/// hold before allocating it: the grid spans every cell's bounding box, so two cells at
/// opposite corners of a hostile sheet would otherwise ask for 17 billion cells.
fn xlsx_range(
    xlsx: &mut Xlsx<BufReader<File>>,
    name: &str,
    path: &Path,
) -> Result<Range<Data>, ReadError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        ReadError::file(path, format!("cannot read sheet \"{name}\": {e}"))
    };
    let mut reader = xlsx
        .worksheet_cells_reader(name)
        .map_err(|e| unreadable(&e))?;
    let mut cells = Vec::new();
    let (mut low, mut high) = ((u32::MAX, u32::MAX), (0u32, 0u32));
    while let Some(cell) = reader.next_cell().map_err(|e| unreadable(&e))? {
        if matches!(cell.get_value(), DataRef::Empty) {
            continue;
        }
        let (row, col) = cell.get_position();
        low = (low.0.min(row), low.1.min(col));
        high = (high.0.max(row), high.1.max(col));
        let grid = (u64::from(high.0 - low.0) + 1) * (u64::from(high.1 - low.1) + 1);
        if grid > MAX_GRID_CELLS {
            return Err(ReadError::file(
                path,
                format!(
                    "sheet \"{name}\" spans more than {MAX_GRID_CELLS} cells (a cell at {}{}); \
                     delete the stray cells or save the sheet as CSV",
                    super::column_letter(col as usize),
                    u64::from(row) + 1
                ),
            ));
        }
        let value: Data = cell.get_value().clone().into();
        cells.push(Cell::new((row, col), value));
    }
    Ok(Range::from_sparse(cells))
}

fn row_cells(range: &Range<Data>, index: usize) -> &[Data] {
    range.rows().nth(index).unwrap_or_default()
}

fn row_is_blank(cells: &[Data]) -> bool {
    cells.iter().all(|cell| match cell {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    })
}

/// The data rows of one sheet, converted to text as they are iterated.
pub(super) struct SheetRows {
    path: PathBuf,
    range: Range<Data>,
    headers: Vec<String>,
    /// Index (within the range) of the next row to read.
    next: usize,
    /// Zero-based sheet row and column where the range starts.
    row0: u64,
    col0: usize,
}

impl SheetRows {
    fn convert(&self, index: usize) -> Result<Record, ReadError> {
        let cells = row_cells(&self.range, index);
        let row = self.row0 + index as u64 + 1;
        let width = self.headers.len();
        if let Some(extra) = cells
            .iter()
            .skip(width)
            .position(|c| !row_is_blank(std::slice::from_ref(c)))
        {
            let column = self.col0 + width + extra;
            return Err(ReadError::at_row(
                &self.path,
                row,
                format!(
                    "column {} has a value but no header (the header row has {width} columns)",
                    column_letter(column)
                ),
            ));
        }
        let mut values = Vec::with_capacity(width);
        for (i, header) in self.headers.iter().enumerate() {
            let text = match cells.get(i) {
                Some(cell) => cell_text(cell)
                    .map_err(|message| ReadError::at_cell(&self.path, row, header, message))?,
                None => String::new(),
            };
            values.push(text);
        }
        Ok(Record { row, values })
    }
}

impl Iterator for SheetRows {
    type Item = Result<Record, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.next < self.range.height() {
            let index = self.next;
            self.next += 1;
            if !row_is_blank(row_cells(&self.range, index)) {
                return Some(self.convert(index));
            }
        }
        None
    }
}

/// A cell as the text a person sees in it.
fn cell_text(cell: &Data) -> Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_duration() => duration_text(dt.as_f64()),
        Data::DateTime(dt) => datetime_text(dt),
        Data::DateTimeIso(s) => iso_datetime_text(s),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => {
            return Err(format!(
                "the cell holds the error {e}; fix the formula or clear the cell"
            ))
        }
    })
}

/// Whole numbers print as integers (never `1.2345678901E10`); other numbers keep the 15
/// significant digits Excel shows, which drops binary artefacts such as 0.30000000000000004.
pub(super) fn number_text(value: f64) -> String {
    const EXACT: f64 = 1e15;
    if !value.is_finite() {
        return value.to_string();
    }
    let value = if value.fract() == 0.0 {
        value
    } else {
        format!("{value:.14e}").parse::<f64>().unwrap_or(value)
    };
    if value.fract() == 0.0 && value.abs() < EXACT {
        // The cast is exact: the value is whole and well inside i64's range.
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

fn datetime_text(dt: &ExcelDateTime) -> String {
    let (year, month, day, hour, minute, second, _milli) = dt.to_ymd_hms_milli();
    if dt.as_f64() < 1.0 && dt.as_f64() > 0.0 {
        // A time of day with no date: serial values below 1 sit on Excel's day zero.
        format!("{hour:02}:{minute:02}:{second:02}")
    } else if (hour, minute, second) == (0, 0, 0) {
        format!("{year:04}-{month:02}-{day:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}")
    }
}

fn duration_text(days: f64) -> String {
    let total = (days * 86_400.0).round() as i64;
    let sign = if total < 0 { "-" } else { "" };
    let total = total.abs();
    format!(
        "{sign}{}:{:02}:{:02}",
        total / 3600,
        total / 60 % 60,
        total % 60
    )
}

/// OpenDocument writes dates as ISO text already; only the form is made to match.
fn iso_datetime_text(text: &str) -> String {
    let text = text.trim();
    let Some((date, time)) = text.split_once('T') else {
        return text.to_string();
    };
    let time = time.split('.').next().unwrap_or(time);
    if time.trim_start_matches(['0', ':']).is_empty() {
        date.to_string()
    } else {
        format!("{date} {time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::ExcelDateTimeType;

    #[test]
    fn numbers_without_artefacts() {
        assert_eq!(number_text(12345678901.0), "12345678901");
        assert_eq!(number_text(1.5), "1.5");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(-42.0), "-42");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(number_text(0.000001), "0.000001");
    }

    #[test]
    fn dates_as_iso() {
        let date = ExcelDateTime::new(45352.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(datetime_text(&date), "2024-03-01");
        let with_time = ExcelDateTime::new(45352.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(datetime_text(&with_time), "2024-03-01 12:00:00");
        let time = ExcelDateTime::new(0.75, ExcelDateTimeType::DateTime, false);
        assert_eq!(datetime_text(&time), "18:00:00");
        assert_eq!(duration_text(1.5), "36:00:00");
        assert_eq!(iso_datetime_text("2024-03-01T00:00:00"), "2024-03-01");
        assert_eq!(
            iso_datetime_text("2024-03-01T10:30:00.5"),
            "2024-03-01 10:30:00"
        );
    }
}
