//! Validation throughput: maps a five-column companies file (Name, E-Mail, Phone, Founded,
//! Type) and validates and plans N generated rows in memory, in chunks as `import` feeds
//! them, then prints rows per second and the peak resident memory (VmHWM).
//!
//! `cargo bench --bench validate -- [ROWS]` (default 1,000,000). Run one size per process:
//! the peak memory is the process's.

use std::time::{Duration, Instant};

use crm_bulk::map::{MapInput, MapOptions, Mapping};
use crm_bulk::plan::{Action, PlanOptions, Planner};
use crm_bulk::read::Record;
use crm_bulk::schema::Schema;
use crm_bulk::validate::{ValidateOptions, Validator};

/// Rows per chunk, as `import` is expected to feed them.
const CHUNK: usize = 16_384;

fn main() {
    let rows: u64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let schema = Schema::default_sandbox();
    let table = schema.table("companies").expect("companies table");
    let headers: Vec<String> = ["Name", "E-Mail", "Phone", "Founded", "Type"]
        .iter()
        .map(|s| s.to_string())
        .collect();

    let start = Instant::now();
    let options = MapOptions::default();
    let input = MapInput {
        file: "bench.csv",
        headers: &headers,
        table,
        map_file: None,
        options: &options,
    };
    let mapping = Mapping::build(input).expect("the headers map");
    let validator =
        Validator::new(&schema, &mapping, &ValidateOptions::default()).expect("no constants");
    let mut planner = Planner::new(validator, Vec::new(), &PlanOptions::default()).expect("a plan");
    let setup = start.elapsed();

    let types = ["Lead", "Customer", "Partner", "2"];
    let mut working = Duration::ZERO;
    let (mut created, mut invalid) = (0u64, 0u64);
    let mut next = 0u64;
    while next < rows {
        let end = (next + CHUNK as u64).min(rows);
        let records: Vec<Record> = (next..end)
            .map(|i| Record {
                row: i + 2,
                values: vec![
                    format!("Company {i}"),
                    format!("contact{i}@example{}.com", i % 97),
                    format!("+1 (555) {:03}-{:04}", i % 1000, i % 10_000),
                    if i % 2 == 0 {
                        format!("{}-{:02}-{:02}", 1970 + i % 50, 1 + i % 12, 1 + i % 28)
                    } else {
                        format!("{}/May/{:02}", 1 + i % 28, i % 60)
                    },
                    types[(i % 4) as usize].to_string(),
                ],
            })
            .collect();
        let started = Instant::now();
        let plans = planner.plan_chunk(records);
        for plan in &plans {
            match plan.action {
                Action::Create => created += 1,
                _ => invalid += 1,
            }
        }
        drop(plans);
        working += started.elapsed();
        next = end;
    }
    let total = working + setup;
    println!("rows: {rows}");
    println!("created: {created}, not created: {invalid}");
    println!("mapping + setup: {:.3} ms", setup.as_secs_f64() * 1e3);
    println!("validate + plan: {:.3} s", total.as_secs_f64());
    println!("rate: {:.0} rows/s", rows as f64 / total.as_secs_f64());
    println!("threads: {}", rayon::current_num_threads());
    println!("peak RSS (VmHWM): {}", peak_rss());
    if let Some(cpu) = cpu_seconds() {
        // On a shared machine the wall-clock rate depends on the load; rows per CPU-second
        // do not (generating the rows is included here, so this understates the rate).
        println!(
            "process CPU time: {cpu:.3} s ({:.0} rows per CPU-second)",
            rows as f64 / cpu
        );
    }
    assert_eq!(invalid, 0, "every generated row is valid");
}

fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// User + system CPU time of this process, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}
