//! The readers against awkward real-world files: Excel's CSV and "Unicode Text" exports,
//! legacy Windows-1252, quoted line breaks, sloppy headers, workbooks, JSON and NDJSON, and
//! every broken or hostile case, which must fail with the file and row named and never panic.
//! Workbooks (xlsx, ods) are in `tests/read_excel.rs`.

mod common;

use common::read::*;
use std::path::Path;

use crm_bulk::read::{open, Format, ReadOptions};
use tempfile::TempDir;

// ---- CSV and its encodings -------------------------------------------------------------

#[test]
fn excel_csv_utf8_with_bom_and_semicolons() {
    let (source, records) = read_all(
        &fixture("excel_csv_utf8_semicolon.csv"),
        &ReadOptions::default(),
    );
    assert_eq!(source.format, Format::Csv);
    assert_eq!(source.delimiter, Some(b';'));
    assert_eq!(source.encoding, "utf-8");
    assert_eq!(source.headers, ["Name", "E-Mail", "Umsatz"]);
    assert_eq!(
        records,
        [
            row(2, &["Müller GmbH", "info@mueller.de", "1.234,50"]),
            row(3, &["Café Zoë", "hello@cafe.fr", "99"]),
        ]
    );
}

#[test]
fn windows_1252_is_detected() {
    let (source, records) = read_all(&fixture("erp_windows1252.csv"), &ReadOptions::default());
    assert_eq!(source.encoding, "windows-1252");
    assert_eq!(source.headers, ["Firma", "Ort"]);
    assert_eq!(
        records,
        [
            row(2, &["Müller GmbH", "München"]),
            row(3, &["Café de Flore", "Paris"]),
            row(4, &["Smith & Sons, Ltd", "London"]),
        ]
    );
}

#[test]
fn windows_1252_is_detected_when_the_first_accent_is_far_down() {
    let dir = TempDir::new().expect("temp dir");
    let mut bytes = b"Name,City\n".to_vec();
    for i in 0..20_000 {
        bytes.extend_from_slice(format!("Plain {i},Town\n").as_bytes());
    }
    bytes.extend_from_slice(b"Caf\xe9,M\xfcnchen\n");
    let path = write(&dir, "late.csv", &bytes);
    let (source, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(source.encoding, "windows-1252");
    assert_eq!(records.last(), Some(&row(20_002, &["Café", "München"])));
}

#[test]
fn forced_utf8_on_windows_1252_names_row_and_column() {
    let path = fixture("erp_windows1252.csv");
    let options = ReadOptions {
        encoding: Some("utf-8".into()),
        ..ReadOptions::default()
    };
    let results: Vec<_> = open(&path, &options).expect("header is ASCII").collect();
    let first = results[0]
        .as_ref()
        .expect_err("row 2 is not UTF-8")
        .to_string();
    assert_eq!(
        first,
        format!(
            "{}: row 2, column \"Firma\": \"M\u{fffd}ller GmbH\" is not valid UTF-8; \
             pass the file's encoding (for example windows-1252)",
            display(&path)
        )
    );
    // The row without accents still reads.
    assert_eq!(
        results[2].as_ref().expect("row 4 is ASCII"),
        &row(4, &["Smith & Sons, Ltd", "London"])
    );
}

#[test]
fn invalid_utf8_names_the_right_column() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "late.csv", b"Name,City\nAda,M\xfcnchen\n");
    let options = ReadOptions {
        encoding: Some("utf-8".into()),
        ..ReadOptions::default()
    };
    let first = open(&path, &options)
        .expect("open")
        .next()
        .expect("one row");
    let message = first.expect_err("invalid UTF-8").to_string();
    assert!(
        message.contains("row 2, column \"City\": \"M\u{fffd}nchen\""),
        "{message}"
    );
}

#[test]
fn forced_windows_1252_is_used() {
    let dir = TempDir::new().expect("temp dir");
    // Valid UTF-8 that is really Windows-1252 mojibake would be read as UTF-8 unless forced.
    let path = write(&dir, "forced.csv", "Name\nCafÃ©\n");
    let options = ReadOptions {
        encoding: Some("Windows-1252".into()),
        ..ReadOptions::default()
    };
    let (source, records) = read_all(&path, &options);
    assert_eq!(source.encoding, "windows-1252");
    assert_eq!(records, [row(2, &["CafÃƒÂ©"])]);
}

#[test]
fn unknown_encoding_is_an_error() {
    let options = ReadOptions {
        encoding: Some("klingon".into()),
        ..ReadOptions::default()
    };
    let path = fixture("pipe.txt");
    assert_eq!(
        open_error(&path, &options),
        format!(
            "{}: unknown encoding \"klingon\"; use utf-8, utf-16le, utf-16be or windows-1252",
            display(&path)
        )
    );
}

#[test]
fn excel_unicode_text_utf16le_tab_separated() {
    let (source, records) = read_all(&fixture("excel_unicode_text.txt"), &ReadOptions::default());
    assert_eq!(source.encoding, "utf-16le");
    assert_eq!(source.delimiter, Some(b'\t'));
    assert_eq!(source.headers, ["Name", "City"]);
    assert_eq!(
        records,
        [
            row(2, &["Zoë Ångström", "Malmö"]),
            row(3, &["Quoted\tTab", "Oslo"]),
        ]
    );
}

#[test]
fn utf16be_with_bom() {
    let (source, records) = read_all(&fixture("utf16be.csv"), &ReadOptions::default());
    assert_eq!(source.encoding, "utf-16be");
    assert_eq!(records, [row(2, &["José", "São Paulo"])]);
}

#[test]
fn utf16le_without_bom_is_recognised() {
    let dir = TempDir::new().expect("temp dir");
    let bytes: Vec<u8> = "Name;City\nZoë;Malmö\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let path = write(&dir, "nobom.csv", bytes);
    let (source, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(source.encoding, "utf-16le");
    assert_eq!(records, [row(2, &["Zoë", "Malmö"])]);
}

#[test]
fn quoted_newlines_keep_later_row_numbers() {
    let path = fixture("quoted_newlines.csv");
    let items = items(&path);
    assert_eq!(items.len(), 4);
    assert_eq!(
        items[0],
        Ok(row(
            2,
            &["Acme", "Main St 1\r\nBuilding B\r\nFloor 3", "Berlin"]
        ))
    );
    assert_eq!(
        items[1],
        Ok(row(3, &["Globex", "Elm Rd 2\nSuite 9", "Paris"]))
    );
    assert_eq!(items[2], Ok(row(4, &["Initech", "Oak Ave 3", "Rome"])));
    assert_eq!(
        items[3],
        Err(format!(
            "{}: row 5: has 2 fields but the header has 3 \
             (a missing delimiter, or a line break inside a value that is not quoted?)",
            display(&path)
        ))
    );
}

#[test]
fn blank_lines_count_as_rows_but_yield_nothing() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "gaps.csv", "a,b\n1,2\n\n\n3,4\n,\n5,6\n");
    let (_, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(
        records,
        [
            row(2, &["1", "2"]),
            row(5, &["3", "4"]),
            row(7, &["5", "6"])
        ]
    );
}

#[test]
fn sloppy_headers_are_trimmed() {
    let (source, records) = read_all(&fixture("sloppy_headers.csv"), &ReadOptions::default());
    assert_eq!(source.delimiter, Some(b','));
    assert_eq!(source.headers, ["name", "E-MAIL", "Phone"]);
    assert_eq!(
        records,
        [row(2, &["Ada", "ada@example.com", "+44 20 7946 0000"])]
    );
}

#[test]
fn pipe_delimiter_and_leading_zeros() {
    let (source, records) = read_all(&fixture("pipe.txt"), &ReadOptions::default());
    assert_eq!(source.delimiter, Some(b'|'));
    assert_eq!(
        records,
        [
            row(2, &["Acme", "00123", "a, b; c"]),
            row(3, &["Globex", "007", "x"])
        ]
    );
}

#[test]
fn a_given_delimiter_wins_over_sniffing() {
    let options = ReadOptions {
        delimiter: Some(b','),
        ..ReadOptions::default()
    };
    let path = fixture("pipe.txt");
    let source = open(&path, &options).expect("open");
    assert_eq!(source.headers, ["Name|Code|Note"]);
    let items: Vec<_> = source.map(|i| i.map_err(|e| e.to_string())).collect();
    // "a, b; c" holds a comma: with a forced comma that row is ragged.
    assert_eq!(
        items,
        [
            Err(format!(
                "{}: row 2: has 2 fields but the header has 1 \
                 (a delimiter inside a value that is not quoted?)",
                display(&path)
            )),
            Ok(row(3, &["Globex|007|x"])),
        ]
    );
}

#[test]
fn trailing_delimiters_and_columns_without_header_are_tolerated_when_empty() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(
        &dir,
        "trailing.csv",
        "Name;City;;\nAda;London;;\nBob;Paris\n",
    );
    let items = items(&path);
    assert_eq!(items[0], Ok(row(2, &["Ada", "London"])));
    assert_eq!(items[1], Ok(row(3, &["Bob", "Paris"])));
}

#[test]
fn ragged_rows_say_how_many_fields() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "ragged.csv", "a,b,c\n1,2,3\n1,2,3,4\n1,2\n4,5,6\n");
    let items = items(&path);
    let name = display(&path);
    assert_eq!(
        items,
        [
            Ok(row(2, &["1", "2", "3"])),
            Err(format!(
                "{name}: row 3: has 4 fields but the header has 3 \
                 (a delimiter inside a value that is not quoted?)"
            )),
            Err(format!(
                "{name}: row 4: has 2 fields but the header has 3 \
                 (a missing delimiter, or a line break inside a value that is not quoted?)"
            )),
            Ok(row(5, &["4", "5", "6"])),
        ]
    );
}

#[test]
fn unclosed_quote_names_the_row_where_it_opens() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(
        &dir,
        "unclosed.csv",
        "Name,Note\nAda,\"fine\"\nBob,\"never closed\nCy,more\nDi,end\n",
    );
    let items = items(&path);
    assert_eq!(items.len(), 2);
    assert_eq!(items[0], Ok(row(2, &["Ada", "fine"])));
    assert_eq!(
        items[1],
        Err(format!(
            "{}: row 3: a quoted value starts in this row but its closing quote (\") is \
             missing; the rest of the file was read as one value",
            display(&path)
        ))
    );
}

#[test]
fn unclosed_quote_in_the_header() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "h.csv", "\"Name,Note\n1,2\n");
    assert_eq!(
        open_error(&path, &ReadOptions::default()),
        format!(
            "{}: row 1: a quoted value starts in this row but its closing quote (\") is \
             missing; the rest of the file was read as one value",
            display(&path)
        )
    );
}

#[test]
fn empty_files_are_errors() {
    let dir = TempDir::new().expect("temp dir");
    for (name, bytes) in [
        ("empty.csv", &b""[..]),
        ("bom_only.csv", b"\xEF\xBB\xBF"),
        ("blank.csv", b"\r\n\n  \n"),
        ("empty.json", b""),
        ("empty.ndjson", b"\n\n"),
    ] {
        let path = write(&dir, name, bytes);
        let message = open_error(&path, &ReadOptions::default());
        assert!(
            message.starts_with(&format!("{}: the file is empty", display(&path))),
            "{name}: {message}"
        );
    }
}

#[test]
fn header_only_file_has_no_records() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "header.csv", "Name;E-Mail\r\n");
    let (source, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(source.headers, ["Name", "E-Mail"]);
    assert!(records.is_empty());
}

#[test]
fn blank_and_duplicate_headers_name_the_column() {
    let dir = TempDir::new().expect("temp dir");
    let blank = write(&dir, "blank.csv", "Name,,City\n1,2,3\n");
    assert_eq!(
        open_error(&blank, &ReadOptions::default()),
        format!(
            "{}: row 1: column 2 (B) has a blank header; every column needs a name",
            display(&blank)
        )
    );
    let duplicate = write(&dir, "dup.csv", "Name,City, Name \n1,2,3\n");
    assert_eq!(
        open_error(&duplicate, &ReadOptions::default()),
        format!(
            "{}: row 1: columns 1 (A) and 3 (C) have the same header \"Name\"",
            display(&duplicate)
        )
    );
}

#[test]
fn binary_files_are_rejected() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "nul.csv", b"Name,City\nA\0B,C\n");
    let message = open_error(&path, &ReadOptions::default());
    assert!(
        message.starts_with(&format!("{}: looks like a binary file", display(&path))),
        "{message}"
    );
}

#[test]
fn a_workbook_saved_as_csv_is_named() {
    let dir = TempDir::new().expect("temp dir");
    let xlsx = write_workbook(&dir, "real.xlsx");
    let bytes = std::fs::read(xlsx).expect("read workbook");
    let path = write(&dir, "contacts.csv", bytes);
    let message = open_error(&path, &ReadOptions::default());
    assert_eq!(
        message,
        format!(
            "{}: looks like a binary file (an Excel or OpenDocument workbook, not text); \
             rename it to .xlsx or pass the format xlsx",
            display(&path)
        )
    );
}

// ---- JSON and NDJSON ---------------------------------------------------------------------

#[test]
fn json_array_headers_are_the_union_of_keys() {
    let (source, records) = read_all(&fixture("contacts.json"), &ReadOptions::default());
    assert_eq!(source.format, Format::Json);
    assert_eq!(
        source.headers,
        ["Name", "Employees", "Active", "Website", "Revenue"]
    );
    assert_eq!(
        records,
        [
            row(2, &["Acme", "120", "true", "", ""]),
            row(3, &["Globex", "", "", "https://globex.example", "1.50"]),
        ]
    );
}

#[test]
fn json_nested_values_and_non_objects_name_the_row() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(
        &dir,
        "bad.json",
        r#"[{"Name":"Acme","Address":{"City":"Oslo"}}, "just text", {"Name":"Ok"}]"#,
    );
    let items = items(&path);
    let name = display(&path);
    assert_eq!(
        items[0],
        Err(format!(
            "{name}: row 2, column \"Address\": holds a nested object; \
             only text, numbers, true/false and null can be read"
        ))
    );
    let second = items[1].as_ref().expect_err("not an object");
    assert!(
        second.starts_with(&format!("{name}: row 3: not a JSON object")),
        "{second}"
    );
    assert_eq!(items[2], Ok(row(4, &["Ok", ""])));
}

#[test]
fn json_object_instead_of_array_is_explained() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "one.json", "{\n  \"Name\": \"Acme\"\n}\n");
    let message = open_error(&path, &ReadOptions::default());
    assert!(
        message.contains("holds one JSON object, not an array of objects"),
        "{message}"
    );
}

#[test]
fn json_syntax_errors_give_the_position() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "broken.json", "[{\"a\": 1},\n {\"a\": }]");
    let message = open_error(&path, &ReadOptions::default());
    assert!(
        message.starts_with(&format!(
            "{}: is not a JSON array of objects",
            display(&path)
        )) && message.contains("line 2"),
        "{message}"
    );
}

#[test]
fn deeply_nested_json_errors_cleanly() {
    let dir = TempDir::new().expect("temp dir");
    let arrays = format!("{}{}", "[".repeat(200_000), "]".repeat(200_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(200_000), "}".repeat(200_000));
    let path = write(
        &dir,
        "deep.json",
        format!("[{{\"a\": {arrays}}}, {{\"a\": {objects}}}]"),
    );
    let found = items(&path);
    let name = display(&path);
    let cell = |row: u64, what: &str| {
        Err(format!(
            "{name}: row {row}, column \"a\": holds {what}; \
             only text, numbers, true/false and null can be read"
        ))
    };
    assert_eq!(found, [cell(2, "an array"), cell(3, "a nested object")]);

    let path = write(
        &dir,
        "deep.ndjson",
        format!("{{\"a\": 1}}\n{{\"a\": {arrays}}}\n{objects}\n"),
    );
    let items = items(&path);
    assert_eq!(items.len(), 3);
    assert_eq!(items[0], Ok(row(2, &["1"])));
    let second = items[1].as_ref().expect_err("too deep");
    assert!(second.ends_with("row 3, column \"a\": holds an array; only text, numbers, true/false and null can be read"), "{second}");
    let third = items[2].as_ref().expect_err("too deep");
    assert!(
        third.contains("row 4, column \"a\": holds a nested object"),
        "{third}"
    );
}

#[test]
fn ndjson_streams_with_line_based_rows() {
    let path = fixture("contacts.ndjson");
    let source = open_default(&path).expect("open");
    assert_eq!(source.format, Format::Ndjson);
    assert_eq!(source.headers, ["Name", "Phone", "Employees", "Tags"]);
    let items: Vec<_> = source.map(|i| i.map_err(|e| e.to_string())).collect();
    assert_eq!(
        items,
        [
            Ok(row(2, &["Acme", "+1 555 0100", "", ""])),
            Ok(row(4, &["Globex", "", "42", ""])),
            Err(format!(
                "{}: row 5, column \"Tags\": holds an array; \
                 only text, numbers, true/false and null can be read",
                display(&path)
            )),
        ]
    );
}

#[test]
fn ndjson_in_a_json_file_is_detected() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "export.json", "{\"a\":1}\n{\"a\":2,\"b\":\"x\"}\n");
    let (source, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(source.format, Format::Ndjson);
    assert_eq!(records, [row(2, &["1", ""]), row(3, &["2", "x"])]);
}

#[test]
fn ndjson_bad_lines_do_not_stop_the_rest() {
    let dir = TempDir::new().expect("temp dir");
    let path = write(&dir, "x.ndjson", "{\"a\":1}\nnot json\n[1,2]\n{\"a\":4}\n");
    let items = items(&path);
    assert_eq!(items.len(), 4);
    assert!(items[1]
        .as_ref()
        .is_err_and(|e| e.contains("row 3: line 2: not a JSON object")));
    assert!(items[2]
        .as_ref()
        .is_err_and(|e| e.contains("row 4: line 3: not a JSON object")));
    assert_eq!(items[3], Ok(row(5, &["4"])));
}

// ---- detection and hostile input ---------------------------------------------------------

#[test]
fn unknown_extensions_are_sniffed() {
    let dir = TempDir::new().expect("temp dir");
    let csv = write(&dir, "a.dat", "x;y\n1;2\n");
    assert_eq!(open_default(&csv).expect("csv").format, Format::Csv);
    let json = write(&dir, "b.dat", " [{\"x\": 1}]");
    assert_eq!(open_default(&json).expect("json").format, Format::Json);
    let ndjson = write(&dir, "c", "{\"x\": 1}\n{\"x\": 2}\n");
    assert_eq!(
        open_default(&ndjson).expect("ndjson").format,
        Format::Ndjson
    );
    let xlsx_bytes = std::fs::read(write_workbook(&dir, "w.xlsx")).expect("read");
    let xlsx = write(&dir, "d.bin", xlsx_bytes);
    assert_eq!(open_default(&xlsx).expect("xlsx").format, Format::Xlsx);
}

#[test]
fn missing_file_is_named() {
    let path = Path::new("/nonexistent/contacts.csv");
    let message = open_error(path, &ReadOptions::default());
    assert!(
        message.starts_with("/nonexistent/contacts.csv: cannot open"),
        "{message}"
    );
}

#[test]
fn a_one_megabyte_cell_and_ten_thousand_columns() {
    let dir = TempDir::new().expect("temp dir");
    let big = "x".repeat(1 << 20);
    let path = write(&dir, "big.csv", format!("id,note\n1,\"{big}\"\n2,small\n"));
    let (_, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(records[0].values[1].len(), 1 << 20);
    assert_eq!(records[1], row(3, &["2", "small"]));

    let headers: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    let values: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let path = write(
        &dir,
        "wide.csv",
        format!("{}\n{}\n", headers.join(","), values.join(",")),
    );
    let (source, records) = read_all(&path, &ReadOptions::default());
    assert_eq!(source.headers.len(), 10_000);
    assert_eq!(records[0].values[9_999], "9999");
}

#[test]
fn random_bytes_never_panic() {
    use rand::{Rng, SeedableRng};
    let dir = TempDir::new().expect("temp dir");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let formats = [
        None,
        Some(Format::Csv),
        Some(Format::Json),
        Some(Format::Ndjson),
        Some(Format::Xlsx),
        Some(Format::Xls),
        Some(Format::Ods),
    ];
    for round in 0..40 {
        let len = rng.gen_range(0..4096);
        let mut bytes: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if round % 4 == 1 {
            // Mostly text with a few stray bytes, which gets past the binary check.
            bytes = bytes
                .iter()
                .map(|b| b" ,;\"\n\tab\xe9"[(*b as usize) % 9])
                .collect();
        }
        if round % 4 == 2 {
            bytes.splice(0..0, b"PK\x03\x04".iter().copied());
        }
        let path = write(&dir, &format!("r{round}.bin"), &bytes);
        for format in formats {
            let options = ReadOptions {
                format,
                ..ReadOptions::default()
            };
            if let Ok(source) = open(&path, &options) {
                for item in source {
                    if let Err(e) = item {
                        assert!(e.to_string().starts_with(&display(&path)));
                    }
                }
            }
        }
    }
}

#[test]
fn blank_line_rows_with_crlf_and_without_final_newline() {
    let dir = TempDir::new().expect("temp dir");
    let crlf = write(
        &dir,
        "crlf.csv",
        "\r\na,b\r\n1,2\r\n\r\n\"x\r\ny\",3\r\n\r\n5,6",
    );
    let (_, records) = read_all(&crlf, &ReadOptions::default());
    assert_eq!(
        records,
        [
            row(3, &["1", "2"]),
            row(5, &["x\r\ny", "3"]),
            row(7, &["5", "6"])
        ]
    );
    let lf = write(&dir, "lf.csv", "\na,b\n1,2\n\n5,6");
    let (_, records) = read_all(&lf, &ReadOptions::default());
    assert_eq!(records, [row(3, &["1", "2"]), row(5, &["5", "6"])]);
}
