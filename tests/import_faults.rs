//! Imports against a sandbox that fails on purpose: 5xx answers, connections reset before the
//! command runs, answers dropped after the command committed, and throttling. Nothing may be
//! lost, nothing duplicated, and every row reported exactly once.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::Harness;
use crm_bulk::sandbox::{FaultSpec, SandboxConfig};

type Row = BTreeMap<String, String>;

fn report(h: &Harness, name: &str) -> Vec<Row> {
    let mut reader = csv::Reader::from_path(h.path(name)).expect("report exists");
    reader
        .deserialize()
        .map(|r| r.expect("report row"))
        .collect()
}

fn faulty(spec: &str, seed: u64) -> Harness {
    Harness::with(SandboxConfig {
        faults: FaultSpec::parse(spec).expect("fault spec"),
        seed,
        ..SandboxConfig::default()
    })
}

/// `getcompanies` on a sandbox that may fail any call: asked again until it answers.
fn stored_companies(h: &Harness) -> Vec<serde_json::Value> {
    let url = format!(
        "{}/plugins/servlet/crm/api?apiKey={}&userName={}&command=getcompanies",
        h.base_url(),
        common::API_KEY,
        common::USER
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..100 {
        let answer = runtime.block_on(async {
            let response = reqwest::get(&url).await.ok()?;
            serde_json::from_str::<serde_json::Value>(&response.text().await.ok()?).ok()
        });
        if let Some(answer) = answer.filter(|a| a["success"] == true) {
            return answer["companies"].as_array().cloned().unwrap_or_default();
        }
    }
    panic!("the sandbox never answered getcompanies");
}

fn companies_file(rows: usize) -> String {
    let mut text = String::from("Name,ERP ID,Website\n");
    for i in 0..rows {
        text.push_str(&format!("Company {i:05},ERP-{i:05},https://c{i}.example\n"));
    }
    text
}

/// Every row reported once, created, and the sandbox holding exactly one entry per row.
fn assert_exactly_once(h: &Harness, rows: usize) {
    let report = report(h, "companies.report.csv");
    assert_eq!(report.len(), rows, "every row reported");
    let numbers: BTreeSet<u64> = report.iter().map(|r| r["row"].parse().unwrap()).collect();
    assert_eq!(
        numbers,
        (2..rows as u64 + 2).collect(),
        "each row exactly once, in order"
    );
    let not_created: Vec<_> = report.iter().filter(|r| r["status"] != "created").collect();
    assert!(not_created.is_empty(), "{not_created:?}");
    let stored = stored_companies(h);
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
    let h = faulty("error=0.1,reset=0.1,drop-after-commit=0.1", 7);
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
    let report = report(&h, "companies.report.csv");
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
    let h = faulty("error=0.1,reset=0.1,drop-after-commit=0.1,throttle=0.1", 11);
    h.write("companies.csv", companies_file(rows));
    h.cmd()
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--rate",
            "5000",
            "--max-retries",
            "20",
        ])
        .assert()
        .code(0);
    assert_exactly_once(&h, rows);
}

#[test]
fn updates_under_faults_apply_once_and_then_read_unchanged() {
    let rows = 200;
    let h = Harness::new();
    h.write("companies.csv", companies_file(rows));
    h.cmd()
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--rate",
            "5000",
        ])
        .assert()
        .code(0);
    drop(h);
    // A fresh faulty sandbox with the same entries: load, then update every row under faults.
    let h = faulty("error=0.1,reset=0.1,drop-after-commit=0.1", 3);
    h.write("companies.csv", companies_file(rows));
    h.cmd()
        .args([
            "import",
            "companies.csv",
            "--table",
            "companies",
            "--rate",
            "5000",
            "--max-retries",
            "20",
        ])
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
    let report = report(&h, "companies.report.csv");
    assert!(
        report.iter().all(|r| r["status"] == "updated"),
        "{report:?}"
    );
    let stored = stored_companies(&h);
    assert_eq!(stored.len(), rows);
    assert!(stored
        .iter()
        .all(|c| c["org_www"].as_str().unwrap_or("").ends_with(".org")));
}
