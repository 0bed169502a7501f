//! A corpus of hostile files through `crm-bulk validate`: invalid encodings, binary data,
//! 1 MB cells, 10,000 columns, formula-like cells, deeply nested JSON and zip-bomb-like
//! workbooks. None may panic (exit 101) or run away with memory: each run is capped with
//! `ulimit -v`, so an unbounded allocation aborts the process and fails the test. Each must end
//! with a clear message naming the file, or with a clean report.
//!
//! The same files, with peak memory measured, are in `scripts/reliability.sh hostile`.

mod common;

use std::io::Write;
use std::process::Output;

use common::Harness;

/// Address space allowed to one validate run (KiB): far above what any of these files needs
/// when read in bounded memory, far below what a bomb expands to.
const MEMORY_CAP_KIB: u64 = 3 * 1024 * 1024;

/// Runs `crm-bulk validate FILE --table companies EXTRA...` under the memory cap.
fn validate(h: &Harness, file: &str, extra: &[&str]) -> Output {
    let binary = assert_cmd::cargo::cargo_bin("crm-bulk");
    let mut script = format!(
        "ulimit -v {MEMORY_CAP_KIB}; exec '{}' validate '{file}' --table companies",
        binary.display()
    );
    for arg in extra {
        script.push_str(&format!(" '{arg}'"));
    }
    let mut sh = std::process::Command::new("sh");
    for (key, _) in std::env::vars() {
        if key.starts_with("CRM_") {
            sh.env_remove(key);
        }
    }
    sh.arg("-c")
        .arg(script)
        .current_dir(h.dir.path())
        .env("CRM_URL", h.base_url())
        .env("CRM_USER", common::USER)
        .env("CRM_API_KEY", common::API_KEY)
        .env("CRM_TOKEN", common::TOKEN)
        .env("NO_COLOR", "1");
    sh.output().expect("sh runs")
}

/// No panic, an expected exit code, and a short message on stderr naming the file.
fn assert_clean_end(out: &Output, file: &str, codes: &[i32]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let code = out.status.code();
    assert!(
        !stderr.contains("panicked"),
        "{file}: panicked: {}",
        shorten(&stderr)
    );
    assert!(
        code.is_some_and(|c| codes.contains(&c)),
        "{file}: exit {code:?} (signal = out of memory?), wanted one of {codes:?}: {}",
        shorten(&stderr)
    );
    assert!(
        stderr.len() < 64 * 1024,
        "{file}: {} bytes on stderr: {}",
        stderr.len(),
        shorten(&stderr)
    );
    if code != Some(0) {
        assert!(
            stderr.contains(file),
            "{file}: the message names the file: {}",
            shorten(&stderr)
        );
    }
    stderr
}

fn shorten(text: &str) -> String {
    text.chars().take(2000).collect()
}

#[test]
fn invalid_encodings_end_with_a_clear_error() {
    let h = Harness::new();
    let mut bad_utf8 = b"Name,Website\nGood,https://a.example\n".to_vec();
    bad_utf8.extend_from_slice(b"Bad \xff\xfe\xc3\x28 name,https://b.example\n");
    h.write("bad-utf8.csv", &bad_utf8);
    let out = validate(&h, "bad-utf8.csv", &["--encoding", "utf-8"]);
    let stderr = assert_clean_end(&out, "bad-utf8.csv", &[1, 3]);
    assert!(stderr.contains("row 3"), "{stderr}");

    // UTF-16 with a byte-order mark, cut in the middle of a code unit and holding a lone
    // surrogate.
    let mut utf16 = vec![0xff, 0xfe];
    for unit in "Name,Website\nA,b\n".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    utf16.extend_from_slice(&[0x00, 0xd8, b'x', 0, b'\n', 0, 0x41]);
    h.write("torn-utf16.csv", &utf16);
    let out = validate(&h, "torn-utf16.csv", &[]);
    assert_clean_end(&out, "torn-utf16.csv", &[1, 3]);
}

#[test]
fn binary_files_are_refused_as_not_spreadsheets() {
    let h = Harness::new();
    let mut noise = Vec::with_capacity(256 * 1024);
    let mut x: u32 = 0x1234_5678;
    for _ in 0..256 * 1024 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push((x >> 24) as u8);
    }
    for name in [
        "noise.csv",
        "noise.json",
        "noise.ndjson",
        "noise.xlsx",
        "noise.xls",
    ] {
        h.write(name, &noise);
        let out = validate(&h, name, &[]);
        assert_clean_end(&out, name, &[1, 3]);
    }
    // A zip that is not a workbook.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("hello.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"not a workbook").unwrap();
    h.write("plain.xlsx", zip.finish().unwrap().into_inner());
    let out = validate(&h, "plain.xlsx", &[]);
    assert_clean_end(&out, "plain.xlsx", &[1, 3]);
}

#[test]
fn a_one_megabyte_cell_is_reported_shortened() {
    let h = Harness::new();
    let huge = "x".repeat(1024 * 1024);
    h.write(
        "huge-cell.csv",
        format!("Name,Website\nFine,https://a.example\nAlso fine,{huge}\n"),
    );
    let out = validate(&h, "huge-cell.csv", &[]);
    let stderr = assert_clean_end(&out, "huge-cell.csv", &[0, 1, 3]);
    assert!(!stderr.contains(&huge[..10_000]), "the value is shortened");
    assert_eq!(out.status.code(), Some(3), "a 1 MB website is invalid");
    let report = h.read("huge-cell.report.csv");
    assert!(
        report.len() < 64 * 1024,
        "the report does not repeat the cell"
    );
}

#[test]
fn ten_thousand_columns_end_cleanly() {
    let h = Harness::new();
    let mut header = String::from("Name");
    let mut row = String::from("Wide Company");
    for i in 1..10_000 {
        header.push_str(&format!(",Column {i}"));
        row.push_str(&format!(",value {i}"));
    }
    h.write("wide.csv", format!("{header}\n{row}\n{row}2\n"));
    let out = validate(&h, "wide.csv", &[]);
    let stderr = assert_clean_end(&out, "wide.csv", &[1]);
    assert!(
        stderr.contains("and 9979 more columns with problems"),
        "{}",
        shorten(&stderr)
    );
    let out = validate(&h, "wide.csv", &["--ignore-unknown"]);
    assert_clean_end(&out, "wide.csv", &[0, 3]);
}

#[test]
fn formula_like_cells_are_data_not_formulas() {
    let h = Harness::new();
    let cells = [
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "+1+1",
        "-2+3",
        "@SUM(A1:A2)",
        "=cmd|' /C calc'!A0",
        "\t=1+1",
    ];
    let mut text = String::from("Name,Website\n");
    for (i, cell) in cells.iter().enumerate() {
        text.push_str(&format!(
            "\"{}\",https://f{i}.example\n",
            cell.replace('"', "\"\"")
        ));
    }
    h.write("formulas.csv", text);
    let out = validate(&h, "formulas.csv", &[]);
    assert_clean_end(&out, "formulas.csv", &[0, 3]);
    assert!(h.path("formulas.report.csv").exists());
}

#[test]
fn deeply_nested_json_ends_with_an_error_not_a_stack_overflow() {
    let h = Harness::new();
    let depth = 200_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    h.write("nested.json", format!("[{{\"Name\": {nested}}}]"));
    let out = validate(&h, "nested.json", &[]);
    assert_clean_end(&out, "nested.json", &[1, 3]);
    h.write(
        "nested.ndjson",
        format!("{{\"Name\": \"ok\"}}\n{{\"Name\": {nested}}}\n"),
    );
    let out = validate(&h, "nested.ndjson", &[]);
    assert_clean_end(&out, "nested.ndjson", &[1, 3]);
    let objects = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    h.write("objects.json", format!("[{{\"Name\": {objects}}}]"));
    let out = validate(&h, "objects.json", &[]);
    assert_clean_end(&out, "objects.json", &[1, 3]);
}

/// A minimal xlsx whose first sheet's XML is `sheet`, deflated.
fn workbook(sheet: &[u8]) -> Vec<u8> {
    let parts: [(&str, &[u8]); 4] = [
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            br#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            br#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, body) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(body).unwrap();
    }
    zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
    zip.write_all(sheet).unwrap();
    zip.finish().unwrap().into_inner()
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";

#[test]
fn a_cell_at_the_far_corner_of_a_sheet_does_not_allocate_the_whole_grid() {
    // Two cells, but their bounding box is 16,384 columns × 1,048,576 rows.
    let h = Harness::new();
    let sheet = format!(
        "{SHEET_HEAD}<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Corner Co</t></is></c></row>\
         <row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>far</t></is></c></row>{SHEET_TAIL}"
    );
    h.write("corner.xlsx", workbook(sheet.as_bytes()));
    let out = validate(&h, "corner.xlsx", &[]);
    let stderr = assert_clean_end(&out, "corner.xlsx", &[1]);
    assert!(
        stderr.contains("XFD1048576"),
        "names the stray cell: {stderr}"
    );
}

#[test]
fn a_sheet_that_inflates_a_thousandfold_ends_cleanly() {
    // ~64 MB of XML that compresses to well under 1 MB: whitespace, comments and empty rows.
    let h = Harness::new();
    let mut sheet = String::with_capacity(70 << 20);
    sheet.push_str(SHEET_HEAD);
    sheet.push_str("<row r=\"2\"><c r=\"A2\" t=\"inlineStr\"><is><t>Bomb Co</t></is></c></row>");
    sheet.push_str(&" ".repeat(32 << 20));
    for r in 3..200_000 {
        sheet.push_str(&format!("<row r=\"{r}\"></row>"));
    }
    sheet.push_str(SHEET_TAIL);
    let bytes = workbook(sheet.as_bytes());
    assert!(bytes.len() * 50 < sheet.len(), "{} bytes", bytes.len());
    h.write("bomb.xlsx", bytes);
    let out = validate(&h, "bomb.xlsx", &[]);
    assert_clean_end(&out, "bomb.xlsx", &[0, 1, 3]);
}
