//! `addcompany` throughput of the sandbox with 8 concurrent clients, in memory and on a
//! SQLite file: `cargo bench --bench sandbox [-- COUNT]`. Prints one line per store; the
//! figures go in docs/performance.md.

use std::time::Instant;

use crm_bulk::sandbox::{Sandbox, SandboxConfig};

const CLIENTS: usize = 8;

fn main() -> anyhow::Result<()> {
    let total: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir()?;
    let stores = [
        ("in-memory", None),
        ("file (WAL)", Some(dir.path().join("bench.db"))),
    ];
    for (label, db) in stores {
        let sandbox = Sandbox::start(SandboxConfig {
            db,
            ..SandboxConfig::default()
        })?;
        let (seconds, failures) = run(&sandbox.base_url(), total)?;
        println!(
            "{label:>10}: {total} addcompany, {CLIENTS} clients: {seconds:.2} s, {:.0} per second, {failures} failed",
            total as f64 / seconds
        );
        sandbox.shutdown();
    }
    Ok(())
}

/// Sends `total` addcompany calls from `CLIENTS` keep-alive clients; returns seconds and
/// the number of calls that did not answer success.
fn run(base: &str, total: usize) -> anyhow::Result<(f64, usize)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for client_no in 0..CLIENTS {
            let base = base.to_string();
            tasks.push(tokio::spawn(async move {
                let client = reqwest::Client::new();
                let mut failures = 0;
                for i in (client_no..total).step_by(CLIENTS) {
                    let url = format!(
                        "{base}/plugins/servlet/crm/api?apiKey=sandbox-key&userName=admin&command=addcompany\
                         &clients-org_name=Bench%20Company%20{i}&clients-org_type=2"
                    );
                    let ok = match client.get(url).send().await {
                        Ok(r) => r.text().await.map(|t| t.contains("\"success\":true")).unwrap_or(false),
                        Err(_) => false,
                    };
                    failures += usize::from(!ok);
                }
                failures
            }));
        }
        let mut failures = 0;
        for task in tasks {
            failures += task.await?;
        }
        Ok((start.elapsed().as_secs_f64(), failures))
    })
}
