//! The readers against workbooks: xlsx as Excel users make them (notes sheet first, dates,
//! long numbers, leading zeros, error cells, stray values, truncated files) and LibreOffice's
//! ods, read as people see the cells. CSV, JSON and NDJSON are in `tests/read.rs`.

mod common;

use common::read::*;
use crm_bulk::read::{Format, ReadOptions};
use rust_xlsxwriter::{Formula, Workbook};
use tempfile::TempDir;

#[test]
fn xlsx_cells_read_as_people_see_them() {
    let dir = TempDir::new().expect("temp dir");
    let path = write_workbook(&dir, "contacts.xlsx");
    let options = ReadOptions {
        sheet: Some("contacts 2024".into()),
        ..ReadOptions::default()
    };
    let (source, records) = read_all(&path, &options);
    assert_eq!(source.format, Format::Xlsx);
    assert_eq!(
        source.headers,
        ["Name", "Since", "Phone", "Code", "Active", "Score", "Seen"]
    );
    assert_eq!(
        records,
        [
            row(
                2,
                &[
                    "Acme",
                    "2024-03-01",
                    "12345678901",
                    "00123",
                    "true",
                    "1.5",
                    "2024-03-01 13:45:10"
                ]
            ),
            row(4, &["Globex", "", "", "", "false", "0.3", ""]),
        ]
    );
}

#[test]
fn xlsx_default_sheet_is_the_first() {
    let dir = TempDir::new().expect("temp dir");
    let path = write_workbook(&dir, "contacts.xlsx");
    let (source, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(source.headers, ["Read me"]);
    assert!(records.is_empty());
}

#[test]
fn xlsx_unknown_sheet_lists_the_sheets() {
    let dir = TempDir::new().expect("temp dir");
    let path = write_workbook(&dir, "contacts.xlsx");
    let options = ReadOptions {
        sheet: Some("Leads".into()),
        ..ReadOptions::default()
    };
    assert_eq!(
        open_error(&path, &options),
        format!(
            "{}: has no sheet \"Leads\"; its sheets are \"Notes\", \"Contacts 2024\"",
            display(&path)
        )
    );
}

#[test]
fn xlsx_error_cells_name_row_and_column() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("errors.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "Name").expect("cell");
    sheet.write_string(0, 1, "Ratio").expect("cell");
    sheet.write_string(1, 0, "Acme").expect("cell");
    sheet
        .write_formula(1, 1, Formula::new("=1/0").set_result("#DIV/0!"))
        .expect("cell");
    sheet.write_string(2, 0, "Globex").expect("cell");
    sheet.write_number(2, 1, 2.0).expect("cell");
    workbook.save(&path).expect("save");
    let items = items(&path);
    assert_eq!(
        items,
        [
            Err(format!(
                "{}: row 2, column \"Ratio\": the cell holds the error #DIV/0!; \
                 fix the formula or clear the cell",
                display(&path)
            )),
            Ok(row(3, &["Globex", "2"])),
        ]
    );
}

#[test]
fn xlsx_value_without_header_is_an_error() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("wide.xlsx");
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "Name").expect("cell");
    sheet.write_string(1, 0, "Acme").expect("cell");
    sheet.write_string(2, 0, "Globex").expect("cell");
    sheet.write_string(2, 3, "stray").expect("cell");
    workbook.save(&path).expect("save");
    let items = items(&path);
    assert_eq!(items[0], Ok(row(2, &["Acme"])));
    assert_eq!(
        items[1],
        Err(format!(
            "{}: row 3: column D has a value but no header (the header row has 1 columns)",
            display(&path)
        ))
    );
}

#[test]
fn truncated_xlsx_is_an_error_not_a_panic() {
    let dir = TempDir::new().expect("temp dir");
    let full = std::fs::read(write_workbook(&dir, "full.xlsx")).expect("read");
    for cut in [0, 4, 100, full.len() / 2, full.len() - 10] {
        let path = write(&dir, &format!("cut{cut}.xlsx"), &full[..cut]);
        let message = open_error(&path, &ReadOptions::default());
        assert!(message.starts_with(&display(&path)), "{message}");
    }
}

// ---- OpenDocument ------------------------------------------------------------------------

#[test]
fn ods_cells_read_as_people_see_them() {
    let path = fixture("libreoffice.ods");
    let (source, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(source.format, Format::Ods);
    assert_eq!(source.headers, ["Name", "Seit", "Telefon", "Code", "Aktiv"]);
    assert_eq!(
        records,
        [row(
            2,
            &["Müller GmbH", "2024-03-01", "12345678901", "00123", "true"]
        )]
    );
    // The same bytes under an unknown extension are recognised as OpenDocument.
    let dir = TempDir::new().expect("temp dir");
    let copy = write(&dir, "export.bin", std::fs::read(&path).expect("read"));
    assert_eq!(open_default(&copy).expect("open").format, Format::Ods);
}
