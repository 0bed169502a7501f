//! Reading throughput: generates CSV and NDJSON files of five columns (100k, 1M and 5M rows)
//! in a temp dir and reads each with `crm_bulk::read` in a fresh child process, printing rows
//! per second and the child's peak resident memory (VmHWM), which must stay flat as files grow.
//!
//! Run: `cargo bench --bench read` (sizes can be narrowed: `READ_BENCH_ROWS=100000,1000000`).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crm_bulk::read::{open, ReadOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let path = args.get(i + 1).expect("--child needs a path");
        child(Path::new(path));
        return;
    }
    let sizes: Vec<u64> = std::env::var("READ_BENCH_ROWS")
        .unwrap_or_else(|_| "100000,1000000,5000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "| format | rows | file MB | wall s | CPU s | rows/s (wall) | rows/s (CPU) | peak RSS MB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for &rows in &sizes {
        for (format, writer) in [
            ("csv", write_csv as fn(&Path, u64)),
            ("ndjson", write_ndjson),
        ] {
            let path = dir.path().join(format!("bench-{rows}.{format}"));
            writer(&path, rows);
            let size_mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
            let (read, seconds, hwm_kb, cpu) = run_child(&path);
            assert_eq!(read, rows, "{format}: every row must be read");
            println!(
                "| {format} | {rows} | {size_mb:.0} | {seconds:.2} | {cpu:.2} | {:.0} | {:.0} | {:.1} |",
                rows as f64 / seconds,
                rows as f64 / cpu,
                hwm_kb as f64 / 1024.0
            );
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Reads one file in this process and prints `rows seconds peak_kb`.
fn child(path: &Path) {
    let start = Instant::now();
    let source = open(path, &ReadOptions::default()).expect("open");
    let mut rows = 0u64;
    let mut bytes = 0usize;
    for record in source {
        let record = record.expect("valid row");
        bytes += record.values.iter().map(String::len).sum::<usize>();
        rows += 1;
    }
    let seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    println!("{rows} {seconds} {} {}", peak_rss_kb(), cpu_seconds());
}

fn run_child(path: &PathBuf) -> (u64, f64, u64, f64) {
    let exe = std::env::current_exe().expect("own path");
    let output = Command::new(exe)
        .arg("--child")
        .arg(path)
        .output()
        .expect("run child");
    assert!(
        output.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    let mut next = || parts.next().unwrap_or("0").to_string();
    let rows = next().parse().unwrap_or(0);
    let seconds = next().parse().unwrap_or(f64::NAN);
    let hwm = next().parse().unwrap_or(0);
    let cpu = next().parse().unwrap_or(f64::NAN);
    (rows, seconds, hwm, cpu)
}

/// User plus system CPU time of this process, from /proc/self/stat (in clock ticks of
/// 1/100 s), so that figures stay meaningful on a machine shared with other work.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at its closing ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line: indices 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

fn write_csv(path: &Path, rows: u64) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(out, "Name,E-Mail,Phone,Employees,Since").expect("write");
    for i in 0..rows {
        writeln!(
            out,
            "Company {i},contact{i}@example.com,+1 555 {:04},{},2024-{:02}-{:02}",
            i % 10_000,
            i % 5000,
            i % 12 + 1,
            i % 28 + 1
        )
        .expect("write");
    }
    out.flush().expect("flush");
}

fn write_ndjson(path: &Path, rows: u64) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("create"));
    for i in 0..rows {
        writeln!(
            out,
            r#"{{"Name":"Company {i}","E-Mail":"contact{i}@example.com","Phone":"+1 555 {:04}","Employees":{},"Since":"2024-{:02}-{:02}"}}"#,
            i % 10_000,
            i % 5000,
            i % 12 + 1,
            i % 28 + 1
        )
        .expect("write");
    }
    out.flush().expect("flush");
}
