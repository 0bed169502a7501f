//! `crm-bulk validate` and `crm-bulk import --dry-run`: the same report a real import would
//! write, every problem on stderr with file, row and column, and never a write call.

mod common;

use common::{statuses, Harness};

const VALID: &str = "Name,Website\nAcme,https://acme.example\nGlobex,https://globex.example\n";
const INVALID: &str = "Name,Website,E-Mail,Employees\n\
Acme,https://acme.example,info@acme.example,12\n\
Globex,https://globex.example,kelly@,many\n\
,https://nameless.example,,\n";

#[test]
fn a_valid_file_passes_with_the_action_each_row_would_get() {
    let h = Harness::new();
    h.write("companies.csv", VALID);
    h.cmd()
        .args(["validate", "companies.csv", "--table", "companies"])
        .assert()
        .code(0);
    let rows = h.report("companies.report.csv");
    assert_eq!(statuses(&rows), ["would create", "would create"]);
    assert_eq!(h.write_calls(), 0);
}

#[test]
fn every_problem_is_reported_with_file_row_and_column() {
    let h = Harness::new();
    h.write("companies.csv", INVALID);
    let out = h
        .cmd()
        .args(["validate", "companies.csv", "--table", "companies"])
        .assert()
        .code(3);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("companies.csv: row 3, column \"E-Mail\": \"kelly@\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("companies.csv: row 3, column \"Employees\": \"many\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("companies.csv: row 4, column \"Name\""),
        "{stderr}"
    );
    let rows = h.report("companies.report.csv");
    assert_eq!(statuses(&rows), ["would create", "invalid", "invalid"]);
    assert!(rows[1]["message"].contains("E-Mail"), "{:?}", rows[1]);
    assert_eq!(h.write_calls(), 0);
}

#[test]
fn dry_run_reports_what_a_real_import_would_do() {
    let h = Harness::new();
    h.write("companies.csv", VALID);
    h.cmd()
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--rate",
            "1000",
        ])
        .assert()
        .code(0);
    let writes = h.write_calls();
    h.write(
        "next.csv",
        "Name,Website\nAcme,https://acme.example\nGlobex,https://globex.org\nInitech,https://initech.example\n",
    );
    let out = h
        .cmd()
        .args([
            "import",
            "next.csv",
            "--table",
            "companies",
            "--mode",
            "upsert",
            "--dry-run",
        ])
        .assert()
        .code(0);
    assert_eq!(h.write_calls(), writes, "a dry run never writes");
    let rows = h.report("next.report.csv");
    assert_eq!(
        statuses(&rows),
        ["unchanged", "would update", "would create"]
    );
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("Website"),
        "the mapping is shown first: {stderr}"
    );
}

#[test]
fn dry_run_of_an_invalid_file_exits_3() {
    let h = Harness::new();
    h.write("companies.csv", INVALID);
    h.cmd()
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--dry-run",
        ])
        .assert()
        .code(3);
    assert_eq!(
        statuses(&h.report("companies.report.csv")),
        ["would create", "invalid", "invalid"]
    );
    assert_eq!(h.write_calls(), 0);
}

#[test]
fn show_mapping_prints_each_header_and_its_attribute() {
    let h = Harness::new();
    h.write("companies.csv", VALID);
    let out = h
        .cmd()
        .args([
            "validate",
            "companies.csv",
            "--table",
            "companies",
            "--show-mapping",
        ])
        .assert()
        .code(0);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    assert!(all.contains("Website"), "{all}");
    assert!(all.contains("org_www"), "{all}");
}

#[test]
fn an_unknown_header_is_an_error_unless_ignored() {
    let h = Harness::new();
    h.write("companies.csv", "Name,Webiste\nAcme,https://acme.example\n");
    let out = h
        .cmd()
        .args(["validate", "companies.csv", "--table", "companies"])
        .assert();
    let out = out.get_output();
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(stderr.contains("Webiste"), "{stderr}");
    h.cmd()
        .args([
            "validate",
            "companies.csv",
            "--table",
            "companies",
            "--ignore-unknown",
        ])
        .assert()
        .code(0);
}
