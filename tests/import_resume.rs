//! Crash and resume: `kill -9` in the middle of a load, then `--resume` finishes it with every
//! row in the CRM exactly once and a complete report; a changed input file is refused.

mod common;

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{companies_file, Harness};
use crm_bulk::sandbox::SandboxConfig;

/// The binary as a plain child process, so the test can kill it.
fn spawn_import(h: &Harness, extra: &[&str]) -> std::process::Child {
    h.process()
        .args(common::IMPORT_COMPANIES)
        .args(["--concurrency", "4"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts")
}

#[test]
fn kill_9_mid_load_then_resume_loads_every_row_exactly_once() {
    let rows = 300;
    let h = Harness::with(SandboxConfig {
        latency: Duration::from_millis(10),
        ..SandboxConfig::default()
    });
    h.write("companies.csv", companies_file(rows));
    let mut child = spawn_import(&h, &[]);
    let started = Instant::now();
    while h.count("addcompany") < 40 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the import never got going"
        );
        if let Some(status) = child.try_wait().expect("child status") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            panic!("the import finished ({status}) before it could be killed: {stderr}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let before = h.count("addcompany");
    assert!(before < rows as u64, "killed mid-load");

    h.import_companies(&["--resume"]).assert().code(0);

    let stored = h.companies();
    let names: BTreeSet<String> = stored
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        stored.len(),
        rows,
        "exactly once: nothing lost, nothing duplicated"
    );
    assert_eq!(names.len(), rows);
    let report = h.report("companies.report.csv");
    assert_eq!(report.len(), rows, "the report is complete");
    assert!(
        report.iter().all(|r| r["status"] == "created"),
        "{report:?}"
    );
    let numbers: BTreeSet<u64> = report.iter().map(|r| r["row"].parse().unwrap()).collect();
    assert_eq!(numbers.len(), rows);
    // Only the calls in flight when the process died (at most --concurrency) may have reached
    // the server without taking effect and been sent again; every finished row was skipped.
    let sent = h.count("addcompany");
    assert!(sent <= rows as u64 + 4, "{sent} adds for {rows} rows");
}

#[test]
fn resume_refuses_a_changed_file_unless_forced() {
    let h = Harness::new();
    h.write("companies.csv", companies_file(5));
    h.import_companies(&[]).assert().code(0);
    h.write("companies.csv", companies_file(6));
    let out = h.import_companies(&["--resume"]).assert().code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(h.count("addcompany"), 5);

    h.import_companies(&["--resume", "--force"])
        .assert()
        .code(0);
    assert_eq!(h.count("addcompany"), 6, "only the new row is sent");
    assert_eq!(h.report("companies.report.csv").len(), 6);
}

#[test]
fn resume_after_a_finished_run_sends_nothing() {
    let h = Harness::new();
    h.write("companies.csv", companies_file(5));
    h.import_companies(&[]).assert().code(0);
    let writes = h.write_calls();
    h.import_companies(&["--resume"]).assert().code(0);
    assert_eq!(h.write_calls(), writes);
    let report = h.report("companies.report.csv");
    assert_eq!(report.len(), 5);
    assert!(
        report.iter().all(|r| r["status"] == "created"),
        "{report:?}"
    );
}

#[test]
fn ctrl_c_flushes_report_and_journal_exits_130_and_resume_finishes() {
    let rows = 300;
    let h = Harness::with(SandboxConfig {
        latency: Duration::from_millis(10),
        ..SandboxConfig::default()
    });
    h.write("companies.csv", companies_file(rows));
    let mut child = spawn_import(&h, &[]);
    let started = Instant::now();
    while h.count("addcompany") < 40 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the import never got going"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let exit = child.wait().expect("child exits");
    assert_eq!(exit.code(), Some(130));
    let first = h.report("companies.report.csv");
    assert_eq!(
        first.len(),
        rows,
        "an interrupted run still reports every row"
    );
    let created = first.iter().filter(|r| r["status"] == "created").count();
    assert!(
        created > 0 && created < rows,
        "{created} created before the interrupt"
    );
    assert!(first
        .iter()
        .filter(|r| r["status"] != "created")
        .all(|r| r["status"] == "skipped"));
    assert_eq!(
        h.count("addcompany"),
        created as u64,
        "in-flight calls finished and were reported"
    );

    h.import_companies(&["--resume"]).assert().code(0);
    let stored = h.companies();
    assert_eq!(stored.len(), rows);
    assert_eq!(h.count("addcompany"), rows as u64, "nothing was sent twice");
    assert!(h
        .report("companies.report.csv")
        .iter()
        .all(|r| r["status"] == "created"));
}
