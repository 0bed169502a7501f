//! Export throughput: `crm-bulk export companies` of 100,000 companies (CRM_BENCH_ROWS to
//! change) from an in-process sandbox, through the real release binary, once per format.
//!
//! Run with `cargo bench --bench export`. The populated sandbox database is kept in
//! `target/bench-export-<rows>.db` so later runs skip the slow part (100,000 addcompany calls).
//! Prints one line per format: median wall time of 3 runs, rows per second, file size, and
//! (when `/usr/bin/time` exists) the median CPU time and peak RSS of the export process.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crm_bulk::sandbox::{Sandbox, SandboxConfig};

const KEY: &str = "sandbox-key";
const USER: &str = "admin";
const TOKEN: &str = "sandbox-token";
const RUNS: usize = 3;

fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::var("CRM_BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(100_000);
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let db = target.join(format!("bench-export-{rows}.db"));
    let sandbox = Sandbox::start(SandboxConfig {
        db: Some(db.clone()),
        ..SandboxConfig::default()
    })?;
    let present = count_companies(&sandbox.base_url())?;
    if present < rows {
        eprintln!(
            "populating {} companies into {} (once)...",
            rows - present,
            db.display()
        );
        let started = Instant::now();
        populate(&sandbox.base_url(), present, rows)?;
        eprintln!("populated in {:.1?}", started.elapsed());
    }
    let out_dir = tempfile::tempdir()?;
    println!("export of {rows} companies, median of {RUNS} runs (release binary, whole process)");
    for ext in ["csv", "ndjson", "json", "xlsx"] {
        let out = out_dir.path().join(format!("companies.{ext}"));
        let mut runs: Vec<Run> = (0..RUNS)
            .map(|_| run_export(&sandbox.base_url(), &out))
            .collect::<Result<_, _>>()?;
        let size = std::fs::metadata(&out)?.len();
        runs.sort_by_key(|r| r.wall);
        let median = runs[RUNS / 2].wall;
        let mut usage: Vec<(f64, u64)> = runs.iter().filter_map(|r| r.usage).collect();
        let measured = match usage.len() {
            0 => String::new(),
            n => {
                usage.sort_by(|a, b| a.0.total_cmp(&b.0));
                let cpu = usage[n / 2].0;
                let peak = usage.iter().map(|u| u.1).max().unwrap_or(0);
                format!(
                    "  CPU {cpu:>5.2} s  peak RSS {:>5.0} MB",
                    peak as f64 / 1024.0
                )
            }
        };
        println!(
            "{ext:>6}: {:>6.2} s  {:>8.0} rows/s  {:>6.1} MB{measured}",
            median.as_secs_f64(),
            rows as f64 / median.as_secs_f64(),
            size as f64 / 1e6
        );
    }
    Ok(())
}

/// One export: its wall time, and (user + system CPU seconds, peak RSS in KiB) when
/// `/usr/bin/time` could measure them.
struct Run {
    wall: Duration,
    usage: Option<(f64, u64)>,
}

const TIME: &str = "/usr/bin/time";

fn run_export(base_url: &str, out: &std::path::Path) -> anyhow::Result<Run> {
    let timed = std::path::Path::new(TIME).exists();
    let mut command = if timed {
        let mut c = Command::new(TIME);
        c.args(["-f", "usage %U %S %M", env!("CARGO_BIN_EXE_crm-bulk")]);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_crm-bulk"))
    };
    command
        .args(["-q", "export", "companies", "--out"])
        .arg(out)
        .env("CRM_URL", base_url)
        .env("CRM_USER", USER)
        .env("CRM_API_KEY", KEY)
        .env("CRM_TOKEN", TOKEN);
    let started = Instant::now();
    let output = command.output()?;
    let wall = started.elapsed();
    anyhow::ensure!(
        output.status.success(),
        "export failed: {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let usage = String::from_utf8_lossy(&output.stderr)
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("usage ").map(str::to_string))
        .and_then(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let user: f64 = f.first()?.parse().ok()?;
            let system: f64 = f.get(1)?.parse().ok()?;
            Some((user + system, f.get(2)?.parse().ok()?))
        });
    Ok(Run { wall, usage })
}

fn servlet(base_url: &str) -> String {
    format!("{base_url}/plugins/servlet/crm/api")
}

fn count_companies(base_url: &str) -> anyhow::Result<usize> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let answer: serde_json::Value = reqwest::Client::new()
            .get(servlet(base_url))
            .query(&[
                ("apiKey", KEY),
                ("userName", USER),
                ("command", "getcompanies"),
            ])
            .send()
            .await?
            .json()
            .await?;
        Ok(answer["companies"].as_array().map_or(0, Vec::len))
    })
}

/// Companies `from..to`, with values in most attribute types, 8 requests in flight.
fn populate(base_url: &str, from: usize, to: usize) -> anyhow::Result<()> {
    let schema = crm_bulk::schema::Schema::default_sandbox();
    let table = schema.table("companies").expect("CLIENTS");
    let code = |name: &str| format!("clients-{}", table.find(name).expect("attribute").code);
    let columns = [
        "Name",
        "Type",
        "ERP ID",
        "Phone",
        "E-Mail",
        "Employees",
        "Founded",
        "Notes",
    ]
    .map(code);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let url = servlet(base_url);
        let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        let mut tasks = tokio::task::JoinSet::new();
        for i in from..to {
            let permit = semaphore.clone().acquire_owned().await?;
            let (http, url, columns) = (http.clone(), url.clone(), columns.clone());
            tasks.spawn(async move {
                let values = [
                    format!("Company {i:06}, Ltd."),
                    ["Lead", "Customer", "Partner"][i % 3].to_string(),
                    format!("{i:08}"),
                    format!("+49 30 {i:07}"),
                    format!("info{i}@example.com"),
                    (i % 5000).to_string(),
                    format!("{}/Jan/{:02}", i % 28 + 1, i % 50),
                    "Key account; \"priority\" customer\nsecond line".to_string(),
                ];
                let mut query: Vec<(&str, &str)> = vec![
                    ("apiKey", KEY),
                    ("userName", USER),
                    ("command", "addcompany"),
                ];
                query.extend(
                    columns
                        .iter()
                        .map(String::as_str)
                        .zip(values.iter().map(String::as_str)),
                );
                let answer: serde_json::Value =
                    http.get(&url).query(&query).send().await?.json().await?;
                drop(permit);
                // A rerun after an interrupted population meets the companies it already added.
                let existed = answer.to_string().contains("already in use");
                anyhow::ensure!(
                    answer["success"] == true || existed,
                    "addcompany {i}: {answer}"
                );
                Ok(())
            });
            while let Some(done) = tasks.try_join_next() {
                done??;
            }
        }
        while let Some(done) = tasks.join_next().await {
            done??;
        }
        Ok(())
    })
}
