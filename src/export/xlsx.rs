//! Excel output: one worksheet named after the table, a bold frozen header row, and every
//! cell written as a string, so `007` stays `007` and long digit strings keep every digit.
//! rust_xlsxwriter builds the workbook in memory and it is written out at `finish`; Excel's
//! limits (1,048,576 rows, 32,767 characters a cell) are reported as errors naming the row
//! and column, never truncated.

use std::io::Write;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::{shorten, ExportError, FormatWriter};

/// Excel's cell text limit, in characters.
const MAX_CELL_CHARS: usize = 32_767;
/// Excel's rows per sheet, the header included.
const MAX_ROWS: u32 = 1_048_576;

pub struct XlsxWriter<'a> {
    out: &'a mut dyn Write,
    workbook: Workbook,
    sheet: String,
    headers: Vec<String>,
    /// The next zero-based row to write.
    next_row: u32,
}

impl<'a> XlsxWriter<'a> {
    pub fn new(out: &'a mut dyn Write, sheet: &str) -> XlsxWriter<'a> {
        XlsxWriter {
            out,
            workbook: Workbook::new(),
            sheet: sheet_name(sheet),
            headers: Vec::new(),
            next_row: 0,
        }
    }

    fn write_cells(
        &mut self,
        cells: &[String],
        format: Option<&Format>,
    ) -> Result<(), ExportError> {
        if self.next_row >= MAX_ROWS {
            return Err(ExportError::TooManyRows {
                what: format!("sheet {:?}", self.sheet),
            });
        }
        let row = self.next_row;
        let sheet = self.workbook.worksheet_from_name(&self.sheet)?;
        for (col, cell) in cells.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            if cell.chars().count() > MAX_CELL_CHARS {
                return Err(ExportError::Cell {
                    row: row as usize + 1,
                    column: self.headers.get(col).cloned().unwrap_or_default(),
                    value: shorten(cell),
                    problem:
                        "is longer than the 32,767 characters an Excel cell holds; use csv or json"
                            .into(),
                });
            }
            let col = u16::try_from(col).map_err(|_| XlsxError::RowColumnLimitError)?;
            match format {
                Some(format) => sheet.write_string_with_format(row, col, cell, format)?,
                None => sheet.write_string(row, col, cell)?,
            };
        }
        self.next_row += 1;
        Ok(())
    }
}

/// Excel sheet names: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        "Export".into()
    } else {
        clean
    }
}

impl FormatWriter for XlsxWriter<'_> {
    fn header(&mut self, headers: &[String]) -> Result<(), ExportError> {
        self.headers = headers.to_vec();
        let sheet = self.workbook.add_worksheet();
        sheet.set_name(&self.sheet)?;
        sheet.set_freeze_panes(1, 0)?;
        let bold = Format::new().set_bold();
        self.write_cells(headers, Some(&bold))
    }

    fn row(&mut self, cells: &[String]) -> Result<(), ExportError> {
        self.write_cells(cells, None)
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        let bytes = self.workbook.save_to_buffer()?;
        self.out.write_all(&bytes)?;
        self.out.flush()?;
        Ok(())
    }
}
