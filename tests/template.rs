//! `crm-bulk template` through the real binary: the header row of importable attributes in
//! form order for every default sandbox table, `--out`, `--sandbox`, and `--help`.

mod common;

use common::{Harness, DEFAULT_TABLES as TABLES};
use crm_bulk::schema::Schema;
use predicates::prelude::*;

fn expected(name: &str) -> Vec<String> {
    let schema = Schema::default_sandbox();
    schema
        .table(name)
        .unwrap()
        .attributes
        .iter()
        .filter(|a| a.is_importable())
        .map(|a| a.name.clone())
        .collect()
}

fn header(csv_text: &str) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes());
    let records: Vec<_> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 1, "only the header row: {csv_text}");
    records[0].iter().map(str::to_string).collect()
}

#[test]
fn every_default_table_gets_its_importable_attributes_in_form_order() {
    let h = Harness::new();
    for name in TABLES {
        let output = h.cmd().args(["template", name]).output().unwrap();
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            header(&String::from_utf8_lossy(&output.stdout)),
            expected(name),
            "{name}"
        );
    }
}

#[test]
fn read_only_and_unsupported_attributes_are_left_out() {
    let h = Harness::new();
    let output = h.cmd().args(["template", "companies"]).output().unwrap();
    let columns = header(&String::from_utf8_lossy(&output.stdout));
    assert!(columns.contains(&"Name".to_string()) && columns.contains(&"Type".to_string()));
    assert!(
        !columns.contains(&"People".to_string()),
        "usr cannot be written"
    );
    assert!(
        !columns.contains(&"Attachments".to_string()),
        "unknown types cannot be written"
    );
    let contacts = h.cmd().args(["template", "contacts"]).output().unwrap();
    assert!(
        !header(&String::from_utf8_lossy(&contacts.stdout)).contains(&"JIRA login".to_string()),
        "read-only"
    );
}

#[test]
fn out_writes_a_file_and_sandbox_works() {
    let h = Harness::new();
    h.cmd()
        .env_remove("CRM_URL")
        .args([
            "template",
            "products",
            "--sandbox",
            "--sandbox-db",
            "t.db",
            "--out",
            "products.csv",
        ])
        .assert()
        .success()
        .stdout("");
    assert_eq!(header(&h.read("products.csv")), expected("products"));
}

#[test]
fn no_url_and_no_sandbox_is_a_clear_error() {
    let h = Harness::new();
    h.cmd()
        .env_remove("CRM_URL")
        .args(["template", "companies"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("CRM_URL").and(predicate::str::contains("--sandbox")));
}

#[test]
fn help_shows_an_example() {
    let h = Harness::new();
    let help = h.help("template");
    assert!(help.contains("Examples:"), "{help}");
    assert!(
        help.contains("crm-bulk template companies --sandbox --out companies.csv"),
        "{help}"
    );
}
