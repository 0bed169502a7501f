//! The fuzz targets' bodies, shared by the cargo-fuzz binaries in `fuzz_targets/` and the
//! stable-toolchain harness `tests/fuzz_stable.rs`. Each takes arbitrary bytes and must not
//! panic; errors are fine. They check a few invariants on the way: row numbers grow, records
//! have one cell per header, headers are never blank.

use std::io::Write;

use crm_bulk::read::{self, Format, ReadOptions};
use crm_bulk::schema::Schema;

/// At most this many records are read from one input, so a fuzz case stays fast.
const MAX_RECORDS: usize = 10_000;

/// Writes `data` to a temporary file with `extension` and reads it all as `format`.
pub fn read_bytes(data: &[u8], format: Format, extension: &str) {
    let Ok(mut file) = tempfile::Builder::new().suffix(extension).tempfile() else {
        return;
    };
    if file.write_all(data).is_err() || file.flush().is_err() {
        return;
    }
    for options in [
        ReadOptions {
            format: Some(format),
            ..ReadOptions::default()
        },
        ReadOptions::default(),
    ] {
        let Ok(source) = read::open(file.path(), &options) else {
            continue;
        };
        let headers = source.headers.len();
        assert!(source.headers.iter().all(|h| !h.trim().is_empty()));
        let mut last_row = 1;
        for record in source.take(MAX_RECORDS).flatten() {
            assert!(record.row > last_row, "row numbers grow");
            assert_eq!(record.values.len(), headers, "one cell per header");
            last_row = record.row;
        }
    }
}

pub fn read_csv(data: &[u8]) {
    read_bytes(data, Format::Csv, ".csv");
}

pub fn read_json(data: &[u8]) {
    read_bytes(data, Format::Json, ".json");
}

pub fn read_ndjson(data: &[u8]) {
    read_bytes(data, Format::Ndjson, ".ndjson");
}

pub fn read_xlsx(data: &[u8]) {
    read_bytes(data, Format::Xlsx, ".xlsx");
}

/// A servlet answer body through the client's parser, then as a list of companies and
/// contacts, and as a transactions list.
pub fn parse_answer(data: &[u8]) {
    use crm_bulk::client::response;
    let body = String::from_utf8_lossy(data);
    let Ok(object) = response::parse_answer("getcompanies", &body) else {
        return;
    };
    let schema = Schema::default_sandbox();
    for (table, key) in [("CLIENTS", "companies"), ("CONTACTS", "contacts")] {
        if let Some(table) = schema.table(table) {
            let _ = response::parse_entries(&object, key, table);
        }
    }
    let _ = response::parse_transactions(&object);
}
