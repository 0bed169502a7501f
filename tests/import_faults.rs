//! Imports against a sandbox that fails on purpose: 5xx answers, connections reset before the
//! command runs, answers dropped after the command committed, and throttling. Nothing may be
//! lost, nothing duplicated, and every row reported exactly once.

mod common;

use std::collections::BTreeSet;

use common::{companies_file_with_websites as companies_file, Harness};

/// Every row reported once, created, and the sandbox holding exactly one entry per row.
fn assert_exactly_once(h: &Harness, rows: usize) {
    let report = h.report("companies.report.csv");
    assert_eq!(report.len(), rows, "every row reported");
    let numbers: BTreeSet<u64> = report.iter().map(|r| r["row"].parse().unwrap()).collect();
    assert_eq!(
        numbers,
        (2..rows as u64 + 2).collect(),
        "each row exactly once, in order"
    );
    let not_created: Vec<_> = report.iter().filter(|r| r["status"] != "created").collect();
    assert!(not_created.is_empty(), "{not_created:?}");
    let stored = h.companies();
    let names: BTreeSet<String> = stored
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(stored.len(), rows, "no duplicates, nothing lost");
    assert_eq!(names.len(), rows);
    let ids: BTreeSet<&str> = report.iter().map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), rows, "every row has its own id");
}

#[test]
fn faults_at_high_rates_lose_and_duplicate_nothing() {
    // Throttling has its own test: each 429 costs a whole second (Retry-After: 1).
    let rows = 500;
    let h = Harness::faulty("error=0.1,reset=0.1,drop-after-commit=0.1", 7);
    h.write("companies.csv", companies_file(rows));
    h.cmd()
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--key",
            "ERP ID",
        ])
        .args([
            "--rate",
            "5000",
            "--concurrency",
            "8",
            "--max-retries",
            "20",
        ])
        .assert()
        .code(0);
    assert_exactly_once(&h, rows);
    let report = h.report("companies.report.csv");
    assert!(
        report.iter().any(|r| r["verified"] == "true"),
        "some creates were verified after a lost answer"
    );
    let faults = &h.stats()["faults"];
    assert!(
        faults["drop-after-commit"].as_u64().unwrap_or(0) > 0,
        "{faults}"
    );
}

#[test]
fn every_fault_kind_with_throttling_costs_time_not_rows() {
    let rows = 40;
    let h = Harness::faulty("error=0.1,reset=0.1,drop-after-commit=0.1,throttle=0.1", 11);
    h.write("companies.csv", companies_file(rows));
    h.import_companies(&["--max-retries", "20"])
        .assert()
        .code(0);
    assert_exactly_once(&h, rows);
}

#[test]
fn updates_under_faults_apply_once_and_then_read_unchanged() {
    let rows = 200;
    let h = Harness::new();
    h.write("companies.csv", companies_file(rows));
    h.import_companies(&[]).assert().code(0);
    drop(h);
    // A fresh faulty sandbox with the same entries: load, then update every row under faults.
    let h = Harness::faulty("error=0.1,reset=0.1,drop-after-commit=0.1", 3);
    h.write("companies.csv", companies_file(rows));
    h.import_companies(&["--max-retries", "20"])
        .assert()
        .code(0);
    let changed = companies_file(rows).replace(".example", ".org");
    h.write("companies.csv", changed);
    h.cmd()
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--mode",
            "update",
        ])
        .args(["--rate", "5000", "--max-retries", "20"])
        .assert()
        .code(0);
    let report = h.report("companies.report.csv");
    assert!(
        report.iter().all(|r| r["status"] == "updated"),
        "{report:?}"
    );
    let stored = h.companies();
    assert_eq!(stored.len(), rows);
    assert!(stored
        .iter()
        .all(|c| c["org_www"].as_str().unwrap_or("").ends_with(".org")));
}
