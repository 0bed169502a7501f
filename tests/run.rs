//! `crm-bulk run JOB.toml`: job files against the sandbox — reports and exit code of a
//! two-step job, the lock against overlapping runs, refusal of literal secrets, dry runs that
//! write nothing, and a failing step stopping the job.

mod common;

use std::path::{Path, PathBuf};

use common::Harness;
use crm_bulk::job::lock::JobLock;

const KEY_VAR: &str = "NIGHTLY_CRM_KEY";
const TOKEN_VAR: &str = "NIGHTLY_CRM_TOKEN";

const COMPANIES: &str = "\
Name,ERP ID,E-Mail
Alpha GmbH,ERP-1,info@alpha.example
Beta AG,ERP-2,kelly@
Gamma KG,ERP-3,post@gamma.example
";

/// A job directory `jobs/` holding the data and the job file; returns the job's path.
fn write_job(h: &Harness, connection: &str, steps: &str) -> PathBuf {
    std::fs::create_dir_all(h.path("jobs")).unwrap();
    h.write("jobs/companies.csv", COMPANIES);
    let job = format!("reports_dir = \"reports\"\n\n[connection]\n{connection}\n\n{steps}");
    h.write("jobs/nightly.toml", job)
}

/// The connection of a real deployment: URL and user, secrets named by variable.
fn connection(h: &Harness) -> String {
    format!(
        "url = \"{}\"\nuser = \"{}\"\napi_key_env = \"{KEY_VAR}\"\ntoken_env = \"{TOKEN_VAR}\"",
        h.base_url(),
        common::USER
    )
}

const TWO_STEPS: &str = r#"
[[step]]
name = "load"
import = "companies.csv"
table = "companies"
mode = "upsert"
key = "ERP ID"
skip_invalid = true

[[step]]
name = "backup"
export = "companies"
columns = ["Name", "ERP ID"]
"#;

/// Runs the job from the temp dir's root (not the job's directory), with the secrets only in
/// the variables the job names.
fn run(h: &Harness, job: &Path, extra: &[&str]) -> std::process::Output {
    h.cmd()
        .env_remove("CRM_API_KEY")
        .env_remove("CRM_TOKEN")
        .env_remove("CRM_URL")
        .env(KEY_VAR, common::API_KEY)
        .env(TOKEN_VAR, common::TOKEN)
        .arg("run")
        .arg(job)
        .args(extra)
        .output()
        .unwrap()
}

fn reports(h: &Harness) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(h.path("jobs/reports"))
        .map(|dir| {
            dir.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn report_named(h: &Harness, suffix: &str) -> String {
    let name = reports(h)
        .into_iter()
        .find(|n| n.ends_with(suffix))
        .unwrap_or_else(|| panic!("no report *{suffix} in {:?}", reports(h)));
    h.read(&format!("jobs/reports/{name}"))
}

fn job_summary(h: &Harness) -> serde_json::Value {
    let text = report_named(h, "Z.summary.json");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_two_step_job_writes_named_reports_and_exits_with_its_worst_step() {
    let h = Harness::new();
    let job = write_job(&h, &connection(&h), TWO_STEPS);
    let out = run(&h, &job, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "one invalid row: {stderr}");

    let names = reports(&h);
    for suffix in [
        "-load.report.csv",
        "-load.failures.csv",
        "-load.summary.json",
        "-backup.csv",
        "Z.summary.json",
    ] {
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("nightly-") && n.ends_with(suffix)),
            "{suffix} missing from {names:?}"
        );
    }
    let report = report_named(&h, "-load.report.csv");
    assert!(
        report.contains("\n2,created,") && report.contains("ERP-1"),
        "{report}"
    );
    assert!(
        report.contains("\n3,invalid,") && report.contains("kelly@"),
        "{report}"
    );
    let failures = report_named(&h, "-load.failures.csv");
    assert!(
        failures.contains("Beta AG") && !failures.contains("Alpha GmbH"),
        "{failures}"
    );
    let backup = report_named(&h, "-backup.csv");
    assert_eq!(backup.lines().next(), Some("Name,ERP ID"), "{backup}");
    assert!(
        backup.contains("Alpha GmbH,ERP-1") && backup.contains("Gamma KG,ERP-3"),
        "{backup}"
    );
    assert!(!backup.contains("Beta AG"), "{backup}");

    let summary = job_summary(&h);
    assert_eq!(summary["exit_code"], 3);
    assert_eq!(summary["steps"][0]["name"], "load");
    assert_eq!(summary["steps"][0]["exit_code"], 3);
    assert_eq!(summary["steps"][0]["result"], "rows failed");
    assert_eq!(summary["steps"][0]["summary"]["counts"]["created"], 2);
    assert_eq!(summary["steps"][0]["summary"]["counts"]["invalid"], 1);
    assert_eq!(summary["steps"][1]["result"], "ok");
    assert!(stderr.contains("exit 3"), "the per-step table: {stderr}");

    // No secret in any output or file.
    for name in &names {
        let text = std::fs::read(h.path(&format!("jobs/reports/{name}"))).unwrap();
        let text = String::from_utf8_lossy(&text);
        assert!(
            !text.contains(common::API_KEY) && !text.contains(common::TOKEN),
            "{name}"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    for text in [&stderr, &stdout] {
        assert!(
            !text.contains(common::API_KEY) && !text.contains(common::TOKEN),
            "{text}"
        );
    }
}

#[test]
fn a_second_run_while_the_first_holds_the_lock_exits_1_naming_lock_and_holder() {
    let h = Harness::new();
    let job = write_job(&h, &connection(&h), TWO_STEPS);
    // The first run: it holds the lock exactly as `crm-bulk run` does.
    let first = JobLock::acquire(&job).unwrap();
    let out = run(&h, &job, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("this job is already running"), "{stderr}");
    assert!(stderr.contains("nightly.toml.lock"), "{stderr}");
    assert!(
        stderr.contains(&format!("pid {}", std::process::id())),
        "{stderr}"
    );
    assert_eq!(h.write_calls(), 0, "the second run wrote nothing");
    assert!(
        reports(&h).is_empty(),
        "and made no reports: {:?}",
        reports(&h)
    );

    drop(first);
    let out = run(&h, &job, &[]);
    assert_eq!(out.status.code(), Some(3), "runs once the lock is free");
}

#[test]
fn a_job_holding_a_literal_secret_is_refused_without_showing_it() {
    let h = Harness::new();
    let conn = format!(
        "url = \"{}\"\nuser = \"admin\"\napi_key = \"{}\"",
        h.base_url(),
        common::API_KEY
    );
    let job = write_job(&h, &conn, TWO_STEPS);
    let out = run(&h, &job, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("holds a secret itself (`api_key`)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("api_key_env"),
        "says what to write instead: {stderr}"
    );
    assert!(!stderr.contains(common::API_KEY), "{stderr}");
    assert_eq!(h.stats()["requests"].as_object().map_or(0, |r| r.len()), 0);
}

#[test]
fn a_dry_run_job_writes_nothing_to_the_crm_and_no_export() {
    let h = Harness::new();
    let job = write_job(&h, &connection(&h), TWO_STEPS);
    let out = run(&h, &job, &["--dry-run"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "the invalid row still counts: {stderr}"
    );
    assert_eq!(h.write_calls(), 0, "{}", h.stats());
    assert!(
        stderr.contains("dry run: would export companies to"),
        "{stderr}"
    );
    assert!(
        !reports(&h).iter().any(|n| n.ends_with("-backup.csv")),
        "{:?}",
        reports(&h)
    );
    let report = report_named(&h, "-load.report.csv");
    assert!(
        report.contains("would create") || report.contains("would_create"),
        "{report}"
    );
    assert_eq!(job_summary(&h)["dry_run"], true);
}

#[test]
fn a_step_that_cannot_proceed_stops_the_job() {
    let h = Harness::new();
    let steps = TWO_STEPS.replace("import = \"companies.csv\"", "import = \"missing.csv\"");
    let job = write_job(&h, &connection(&h), &steps);
    let out = run(&h, &job, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("step 1 (load)") && stderr.contains("missing.csv"),
        "{stderr}"
    );
    let summary = job_summary(&h);
    assert_eq!(summary["steps"][0]["result"], "failed");
    assert_eq!(summary["steps"][1]["result"], "not run");
    assert!(summary["steps"][1]["exit_code"].is_null());
    assert_eq!(h.count("getcompanies"), 0, "the export did not run");
}

#[test]
fn an_unknown_option_fails_before_any_step_runs_naming_the_step() {
    let h = Harness::new();
    let steps = format!("{TWO_STEPS}frobnicate = 3\n");
    let job = write_job(&h, &connection(&h), &steps);
    let out = run(&h, &job, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("step 2 (backup)") && stderr.contains("--frobnicate"),
        "{stderr}"
    );
    assert_eq!(h.write_calls(), 0, "step 1 did not run either");
}

#[test]
fn a_missing_secret_variable_is_named() {
    let h = Harness::new();
    let job = write_job(&h, &connection(&h), TWO_STEPS);
    let out = h
        .cmd()
        .env_remove("CRM_API_KEY")
        .env(TOKEN_VAR, common::TOKEN)
        .arg("run")
        .arg(&job)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(KEY_VAR) && stderr.contains("not set"),
        "{stderr}"
    );
}

#[test]
fn the_sample_nightly_job_runs_as_the_readme_says() {
    let h = Harness::new();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    std::fs::create_dir_all(h.path("samples")).unwrap();
    for entry in std::fs::read_dir(&samples).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), h.path("samples").join(entry.file_name())).unwrap();
        }
    }
    let quick_start = h
        .cmd()
        .env_remove("CRM_URL")
        .args([
            "import",
            "--sandbox",
            "samples/companies.csv",
            "--table",
            "companies",
        ])
        .output()
        .unwrap();
    assert!(
        quick_start.status.success(),
        "{}",
        String::from_utf8_lossy(&quick_start.stderr)
    );
    for (pass, writes) in [(1, None), (2, Some(0))] {
        let out = h
            .cmd()
            .args(["run", "samples/nightly-job.toml"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "pass {pass}: {stderr}");
        let dir = h.path("samples/reports");
        let latest = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.ends_with("Z.summary.json") || name.ends_with("Z-2.summary.json")
            })
            .max_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap())
            .unwrap();
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&latest).unwrap()).unwrap();
        assert_eq!(summary["steps"].as_array().unwrap().len(), 3);
        if let Some(writes) = writes {
            for step in 0..2 {
                assert_eq!(
                    summary["steps"][step]["summary"]["write_calls"], writes,
                    "an unchanged night writes nothing"
                );
            }
        } else {
            assert_eq!(
                summary["steps"][0]["summary"]["counts"]["created"], 3,
                "{summary}"
            );
            assert_eq!(
                summary["steps"][0]["summary"]["counts"]["updated"], 1,
                "{summary}"
            );
            assert_eq!(
                summary["steps"][1]["summary"]["counts"]["created"], 6,
                "{summary}"
            );
        }
    }
}
