//! Injected faults, rate limiting and the `crm-bulk sandbox` command, over real HTTP.
//!
//! Each fault is made certain (probability 1) and its effect on the store is checked by
//! reopening the same SQLite file in a fault-free sandbox.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{Harness, API_KEY, USER};
use crm_bulk::sandbox::{FaultSpec, SandboxConfig};
use serde_json::{json, Value};

/// What one raw servlet call got back.
#[derive(Debug, PartialEq)]
enum Outcome {
    Answer {
        status: u16,
        retry_after: Option<String>,
        body: Value,
    },
    /// The connection closed without an HTTP answer.
    NoAnswer,
}

fn raw_call(base: &str, query: &str) -> Outcome {
    let url =
        format!("{base}/plugins/servlet/crm/api?apiKey={API_KEY}&userName={USER}&command={query}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        match reqwest::get(&url).await {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_string());
                let body = response.json::<Value>().await.unwrap();
                Outcome::Answer {
                    status,
                    retry_after,
                    body,
                }
            }
            Err(e) => {
                assert!(!e.is_status() && !e.is_decode(), "{e:?}");
                Outcome::NoAnswer
            }
        }
    })
}

/// Runs one `addcompany` under a certain fault on a file store, then reopens the file
/// without faults and reports the outcome and whether the company exists.
fn add_under(fault: &str) -> (Outcome, bool, Value) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("faults.db");
    let faulty = SandboxConfig {
        db: Some(db.clone()),
        faults: FaultSpec::parse(&format!("{fault}=1")).unwrap(),
        ..SandboxConfig::default()
    };
    let h = Harness::with(faulty);
    let outcome = raw_call(&h.base_url(), "addcompany&clients-org_name=Faulty");
    let stats = h.stats();
    drop(h);
    let clean = Harness::with(SandboxConfig {
        db: Some(db),
        ..SandboxConfig::default()
    });
    let found =
        clean.api("getcompanybyname", &[("companyName", "Faulty")])["success"] == json!(true);
    (outcome, found, stats)
}

#[test]
fn error_fault_answers_500_and_changes_nothing() {
    let (outcome, found, stats) = add_under("error");
    let expected = json!({"success": false, "details": "Internal server error"});
    assert_eq!(
        outcome,
        Outcome::Answer {
            status: 500,
            retry_after: None,
            body: expected
        }
    );
    assert!(!found);
    assert_eq!(
        (
            stats["faults"]["error"].as_u64(),
            stats["requests"]["addcompany"].as_u64()
        ),
        (Some(1), Some(1))
    );
}

#[test]
fn reset_fault_closes_without_answer_and_changes_nothing() {
    let (outcome, found, stats) = add_under("reset");
    assert_eq!(outcome, Outcome::NoAnswer);
    assert!(!found);
    assert_eq!(stats["faults"]["reset"], json!(1));
}

#[test]
fn drop_after_commit_closes_without_answer_but_commits() {
    let (outcome, found, stats) = add_under("drop-after-commit");
    assert_eq!(outcome, Outcome::NoAnswer);
    assert!(found, "the command ran before the connection was dropped");
    assert_eq!(stats["faults"]["drop-after-commit"], json!(1));
}

#[test]
fn throttle_fault_answers_429_with_retry_after_and_runs_nothing() {
    let (outcome, found, stats) = add_under("throttle");
    let expected = json!({"success": false, "details": "Too many requests"});
    assert_eq!(
        outcome,
        Outcome::Answer {
            status: 429,
            retry_after: Some("1".into()),
            body: expected
        }
    );
    assert!(!found);
    assert_eq!(
        (
            stats["faults"]["throttle"].as_u64(),
            stats["throttled"].as_u64()
        ),
        (Some(1), Some(1))
    );
}

#[test]
fn faults_repeat_with_the_seed() {
    let run = |seed: u64| {
        let config = SandboxConfig {
            faults: FaultSpec::parse("error=0.3,reset=0.2,throttle=0.2").unwrap(),
            seed,
            ..SandboxConfig::default()
        };
        let h = Harness::with(config);
        (0..30)
            .map(|_| match raw_call(&h.base_url(), "getcompanies") {
                Outcome::Answer { status, .. } => status,
                Outcome::NoAnswer => 0,
            })
            .collect::<Vec<u16>>()
    };
    let first = run(42);
    assert_eq!(first, run(42));
    for status in [0, 200, 429, 500] {
        assert!(first.contains(&status), "{status} missing from {first:?}");
    }
}

#[test]
fn rate_limit_answers_429_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rated.db");
    let h = Harness::with(SandboxConfig {
        rate_limit: Some(1),
        db: Some(db.clone()),
        ..SandboxConfig::default()
    });
    // Eight calls at once against one call per second: all but the first few are refused.
    let base = h.base_url();
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..8)
            .map(|i| {
                let base = base.clone();
                scope.spawn(move || {
                    raw_call(&base, &format!("addcompany&clients-org_name=Rated{i}"))
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let throttled = outcomes
        .iter()
        .filter(
            |o| matches!(o, Outcome::Answer { status: 429, retry_after: Some(r), .. } if r == "1"),
        )
        .count();
    let added = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Answer { status: 200, body, .. } if body["success"] == json!(true)))
        .count();
    assert!(throttled >= 1, "{outcomes:?}");
    assert_eq!(added + throttled, 8, "{outcomes:?}");
    let stats = h.sandbox.stats();
    assert_eq!(
        (stats.throttled as usize, stats.count("addcompany")),
        (throttled, 8)
    );
    drop(h);
    // The store, reopened without a limit, holds only the admitted calls' companies.
    let clean = Harness::with(SandboxConfig {
        db: Some(db),
        ..SandboxConfig::default()
    });
    let companies = clean.api("getcompanies", &[]);
    assert_eq!(
        companies["companies"].as_array().map(Vec::len),
        Some(added),
        "throttled calls ran nothing"
    );
}

#[test]
fn the_command_announces_its_address_and_never_prints_the_key() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("crm-bulk"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--api-key",
            "s3cret-key-value",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected: {line:?}"))
        .to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let url = format!(
        "{base}/plugins/servlet/crm/api?apiKey=s3cret-key-value&userName=admin&command=sync"
    );
    assert_eq!(
        common::http_get_json(&url)["details"],
        "sync process started"
    );
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let printed = format!(
        "{line}{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!printed.contains("s3cret"), "{printed}");
}

#[test]
fn the_command_refuses_a_bad_fault_spec() {
    let output = Command::new(assert_cmd::cargo::cargo_bin("crm-bulk"))
        .args([
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--db",
            ":memory:",
            "--faults",
            "boom=0.1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--faults") && stderr.contains("boom"),
        "{stderr}"
    );
}
