//! Property: export → import → export is the identity. Generated company tables (quotes,
//! delimiters, line breaks, umlauts, formula-like text, numbers, dates, checkboxes, empty
//! cells) are loaded into one sandbox and exported; that export is imported into a fresh
//! sandbox and exported again; the two exports must be the same bytes, with every row.
//! Each case runs the real binary five times, so the case count is small
//! (`ROUNDTRIP_CASES=N` for more, as `scripts/reliability.sh roundtrip` does).

mod common;

use common::Harness;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("ROUNDTRIP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
}

#[derive(Debug, Clone)]
struct Company {
    name: String,
    erp: String,
    department: String,
    notes: String,
    employees: String,
    founded: String,
    key_account: String,
}

fn text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9äöüßÉ€ ,;|\"'=+@\\-]{0,14}"
}

fn company() -> impl Strategy<Value = Company> {
    (
        "[A-Za-z0-9äöü&\"', =+-]{1,12}",
        prop::option::of("[A-Z0-9-]{1,8}"),
        text(),
        prop_oneof![text(), "[a-z ,\"\n]{0,20}".prop_map(String::from)],
        prop::option::of(0u32..1_000_000)
            .prop_map(|n| n.map(|n| n.to_string()).unwrap_or_default()),
        prop::option::of((1970u32..2068, 1u32..13, 1u32..29)).prop_map(|d| {
            d.map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
                .unwrap_or_default()
        }),
        prop::sample::select(vec!["", "true", "false"]).prop_map(String::from),
    )
        .prop_map(
            |(name, erp, department, notes, employees, founded, key_account)| Company {
                name,
                erp: erp.unwrap_or_default(),
                department,
                notes,
                employees,
                founded,
                key_account,
            },
        )
}

/// A CSV input file; names and ERP IDs are made unique by their row number.
fn input_csv(companies: &[Company]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "Name",
            "ERP ID",
            "Department",
            "Notes",
            "Employees",
            "Founded",
            "Key account",
        ])
        .unwrap();
    for (i, c) in companies.iter().enumerate() {
        let name = format!("{i} {}", c.name);
        let erp = if c.erp.is_empty() {
            String::new()
        } else {
            format!("{}-{i}", c.erp)
        };
        writer
            .write_record([
                name.as_str(),
                &erp,
                &c.department,
                &c.notes,
                &c.employees,
                &c.founded,
                &c.key_account,
            ])
            .unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

fn import(h: &Harness, file: &str) {
    let out = h
        .cmd()
        .args(["import", file, "--table", "companies", "--rate", "5000"])
        .output()
        .expect("import runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "import {file}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        h.read(file)
    );
}

fn export(h: &Harness, file: &str) -> Vec<u8> {
    h.cmd()
        .args(["export", "companies", "--out", file])
        .assert()
        .code(0);
    std::fs::read(h.path(file)).expect("export written")
}

/// The header (CSV) and the records, sorted: a table is a set of entries, and parallel
/// creates give the second sandbox its ids (the export order) in another order.
fn table(bytes: &[u8], format: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let (header, mut records) = match format {
        "csv" => {
            let mut reader = csv::Reader::from_reader(bytes);
            let header: Vec<String> = reader
                .headers()
                .expect("header")
                .iter()
                .map(String::from)
                .collect();
            let records: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.expect("record").iter().map(String::from).collect())
                .collect();
            (header, records)
        }
        _ => {
            let records = String::from_utf8_lossy(bytes)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| vec![l.to_string()])
                .collect();
            (Vec::new(), records)
        }
    };
    records.sort();
    (header, records)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn export_import_export_is_the_identity(
        companies in prop::collection::vec(company(), 1..25),
        format in prop::sample::select(vec!["csv", "ndjson"]),
    ) {
        let first = Harness::new();
        first.write("input.csv", input_csv(&companies));
        import(&first, "input.csv");
        let file = format!("first.{format}");
        let exported = export(&first, &file);
        let first_table = table(&exported, format);
        prop_assert_eq!(first_table.1.len(), companies.len(), "every row exported");

        let second = Harness::new();
        second.write(&file, &exported);
        import(&second, &file);
        let again = export(&second, &format!("second.{format}"));
        prop_assert_eq!(
            first_table,
            table(&again, format),
            "export → import → export changed the table"
        );
    }
}
