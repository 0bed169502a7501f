//! Broken files given to `crm-bulk import`: each stops with a clear error that names the file
//! (and the row, where there is one), and the sandbox receives not a single write call, even
//! when the damage is far down a file whose first rows are fine.

mod common;

use common::Harness;

const HEADER: &str = "Name,Type,Website\n";

fn good_rows(n: usize) -> String {
    (0..n)
        .map(|i| format!("Company {i},Lead,https://c{i}.example\n"))
        .collect()
}

/// Runs `import FILE --table companies` and returns (exit code, stderr).
fn import(h: &Harness, file: &str) -> (i32, String) {
    let out = h
        .cmd()
        .args(["import", file, "--table", "companies", "--rate", "5000"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

fn assert_refused(h: &Harness, file: &str, contents: &[u8], expect: &[&str]) {
    h.write(file, contents);
    let (code, stderr) = import(h, file);
    assert!(
        code == 1 || code == 3,
        "{file}: exit {code} (not a panic, not success)\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{file}: {stderr}");
    assert!(
        stderr.contains(file),
        "{file}: the error names the file\n{stderr}"
    );
    for needle in expect {
        assert!(
            stderr.contains(needle),
            "{file}: expected {needle:?} in\n{stderr}"
        );
    }
    assert_eq!(h.write_calls(), 0, "{file}: nothing may be written");
}

#[test]
fn a_ragged_row_far_down_the_file_writes_nothing() {
    let h = Harness::new();
    let mut text = format!("{HEADER}{}", good_rows(500));
    text.push_str("Company X,Lead,https://x.example,surplus\n");
    text.push_str(&good_rows(3).replace("Company ", "Tail "));
    assert_refused(&h, "ragged.csv", text.as_bytes(), &["row 502"]);
}

#[test]
fn an_unclosed_quote_names_the_row_where_it_opens() {
    let h = Harness::new();
    let text = format!(
        "{HEADER}{}\"Open Quote Co,Lead,https://o.example\n",
        good_rows(10)
    );
    assert_refused(&h, "quote.csv", text.as_bytes(), &["row 12"]);
}

#[test]
fn binary_empty_and_damaged_files_write_nothing() {
    let h = Harness::new();
    let mut binary = b"\x89PNG\r\n\x1a\n".to_vec();
    binary.extend((0..2000u32).map(|i| (i * 7 % 256) as u8));
    assert_refused(&h, "picture.csv", &binary, &["binary"]);
    assert_refused(&h, "empty.csv", b"", &["empty"]);
    assert_refused(&h, "broken.json", b"[{\"Name\": \"A\"}, {\"Name\": ", &[]);
    let ndjson = "{\"Name\":\"A\"}\n{\"Name\":\"B\"}\n{\"Name\": [1, 2]}\n";
    assert_refused(&h, "nested.ndjson", ndjson.as_bytes(), &["row 4", "Name"]);
    assert_refused(&h, "truncated.xlsx", b"PK\x03\x04\x14\x00\x00\x00", &[]);
}

#[test]
fn a_bad_header_writes_nothing_and_suggests_the_attribute() {
    let h = Harness::new();
    let text = format!("Nmae,Type,Website\n{}", good_rows(5));
    assert_refused(&h, "typo.csv", text.as_bytes(), &["Nmae", "Name"]);
}
