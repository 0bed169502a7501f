//! The report, failures file and summary: contents, column order, row order with
//! out-of-order arrivals, atomic replacement, and the JSON shapes monitoring relies on.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use common::read_csv;
use crm_bulk::exit::Exit;
use crm_bulk::report::{
    default_report_path, Action, Finished, ReportFormat, ReportOptions, ReportWriter, RowOutcome,
    Status, StatusCounts, ERROR_COLUMN,
};
use crm_bulk::summary::Summary;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde_json::{json, Value};

fn headers() -> Vec<String> {
    ["Name", "E-Mail", "Notes"].map(String::from).to_vec()
}

fn options(dir: &Path, format: ReportFormat, failures: bool) -> ReportOptions {
    ReportOptions {
        report: dir.join(format!("contacts.report.{}", format.extension())),
        format,
        failures: failures.then(|| dir.join("contacts.failures.csv")),
        headers: headers(),
    }
}

/// Row `seq` of a made-up file: data rows start at spreadsheet row 2.
fn finished(seq: u64, status: Status) -> Finished {
    let row = seq + 2;
    let mut outcome = RowOutcome::new(row, status, format!("Person {row}"));
    match status {
        Status::Created => {
            outcome.id = Some(format!("{}", 1000 + row));
            outcome.action = Action::Create;
            outcome.attempts = 1;
            outcome.changed = vec!["Name".into(), "E-Mail".into()];
        }
        Status::Failed => {
            outcome.action = Action::Create;
            outcome.attempts = 3;
            outcome.message = "server error 500, gave up after 3 attempts".into();
        }
        Status::Invalid => {
            outcome.message = format!(
                "contacts.csv: row {row}, column \"E-Mail\": \"kelly@\" is not an e-mail address"
            );
        }
        _ => {}
    }
    Finished {
        seq,
        outcome,
        cells: vec![format!("Person {row}"), "kelly@".into(), String::new()],
    }
}

fn no_partial_files(dir: &Path) -> bool {
    fs::read_dir(dir).expect("dir").all(|e| {
        !e.expect("entry")
            .file_name()
            .to_string_lossy()
            .ends_with(".partial")
    })
}

#[test]
fn csv_report_has_the_documented_columns_and_rows_in_row_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ReportWriter::create(options(dir.path(), ReportFormat::Csv, false)).unwrap();
    for (seq, status) in [
        (2, Status::Invalid),
        (0, Status::Created),
        (3, Status::Failed),
        (1, Status::Unchanged),
    ] {
        writer.record(finished(seq, status)).unwrap();
    }
    let files = writer.finish().unwrap();

    let (header, rows) = read_csv(&files.report);
    assert_eq!(
        header,
        ["row", "status", "id", "key", "message", "action", "attempts", "verified", "changed"]
    );
    let rows_and_statuses: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        rows_and_statuses,
        [
            ("2", "created"),
            ("3", "unchanged"),
            ("4", "invalid"),
            ("5", "failed")
        ]
    );
    assert_eq!(rows[0][2], "1002");
    assert_eq!(rows[0][8], "Name; E-Mail");
    assert_eq!(rows[1][2], "", "no id is an empty cell");
    assert_eq!(files.counts.total(), 4);
    assert_eq!(files.counts.failures(), 2);
    assert!(no_partial_files(dir.path()));
}

#[test]
fn csv_report_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ReportWriter::create(options(dir.path(), ReportFormat::Csv, false)).unwrap();
    for (seq, status) in [
        (1, Status::Invalid),
        (0, Status::Created),
        (2, Status::Failed),
    ] {
        writer.record(finished(seq, status)).unwrap();
    }
    let mut verified = finished(3, Status::Created);
    verified.outcome.verified = true;
    verified.outcome.message = "the answer was lost; found the entry by its key".into();
    writer.record(verified).unwrap();
    let files = writer.finish().unwrap();
    insta::assert_snapshot!(fs::read_to_string(files.report).unwrap());
}

#[test]
fn rows_arriving_in_any_order_come_out_in_row_order_from_many_threads() {
    let dir = tempfile::tempdir().unwrap();
    let writer = ReportWriter::create(options(dir.path(), ReportFormat::Csv, true)).unwrap();
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || writer.drain(rx));

    let mut seqs: Vec<u64> = (0..2000).collect();
    seqs.shuffle(&mut rand::rngs::StdRng::seed_from_u64(7));
    let workers: Vec<_> = seqs
        .chunks(500)
        .map(|chunk| {
            let tx = tx.clone();
            let chunk = chunk.to_vec();
            std::thread::spawn(move || {
                for seq in chunk {
                    let status = if seq % 10 == 0 {
                        Status::Failed
                    } else {
                        Status::Created
                    };
                    tx.send(finished(seq, status)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    for worker in workers {
        worker.join().unwrap();
    }
    let files = handle.join().unwrap().unwrap();

    let (_, rows) = read_csv(&files.report);
    let numbers: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(numbers, (2..2002).collect::<Vec<u64>>());
    let (_, failures) = read_csv(files.failures.as_ref().unwrap());
    let failed_names: Vec<&str> = failures.iter().map(|r| r[0].as_str()).collect();
    let expected: Vec<String> = (0..2000)
        .step_by(10)
        .map(|s| format!("Person {}", s + 2))
        .collect();
    assert_eq!(failed_names, expected);
    assert_eq!(files.counts.failed, 200);
    assert_eq!(files.counts.created, 1800);
}

#[test]
fn json_report_is_an_array_of_the_same_rows_with_fields_in_column_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ReportWriter::create(options(dir.path(), ReportFormat::Json, false)).unwrap();
    writer.record(finished(1, Status::Invalid)).unwrap();
    writer.record(finished(0, Status::Created)).unwrap();
    let files = writer.finish().unwrap();
    assert_eq!(files.report, dir.path().join("contacts.report.json"));

    let value: Value = serde_json::from_str(&fs::read_to_string(&files.report).unwrap()).unwrap();
    assert_eq!(
        value[0],
        json!({
            "row": 2, "status": "created", "id": "1002", "key": "Person 2", "message": "",
            "action": "create", "attempts": 1, "verified": false, "changed": ["Name", "E-Mail"]
        })
    );
    let keys: Vec<&str> = value[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["row", "status", "id", "key", "message", "action", "attempts", "verified", "changed"]
    );
    assert_eq!(value[1]["status"], "invalid");
    assert_eq!(value[1]["id"], Value::Null);
    assert_eq!(value[1]["action"], "none");
}

#[test]
fn empty_json_report_is_an_empty_array() {
    let dir = tempfile::tempdir().unwrap();
    let writer = ReportWriter::create(options(dir.path(), ReportFormat::Json, false)).unwrap();
    let files = writer.finish().unwrap();
    let value: Value = serde_json::from_str(&fs::read_to_string(files.report).unwrap()).unwrap();
    assert_eq!(value, json!([]));
}

#[test]
fn dry_run_statuses_are_written_as_would_create_and_would_update() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ReportWriter::create(options(dir.path(), ReportFormat::Csv, false)).unwrap();
    let mut create = finished(0, Status::WouldCreate);
    create.outcome.action = Action::Create;
    let mut update = finished(1, Status::WouldUpdate);
    update.outcome.action = Action::Update;
    writer.record(create).unwrap();
    writer.record(update).unwrap();
    writer.record(finished(2, Status::Unchanged)).unwrap();
    writer.record(finished(3, Status::Invalid)).unwrap();
    let files = writer.finish().unwrap();
    let (_, rows) = read_csv(&files.report);
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), r[5].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("would create", "create"),
            ("would update", "update"),
            ("unchanged", "none"),
            ("invalid", "none")
        ]
    );
    assert_eq!(Summary::exit_for(&files.counts, false), Exit::RowsFailed);
}

#[test]
fn previous_report_is_replaced_only_when_the_new_one_is_complete() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), ReportFormat::Csv, true);
    fs::write(&opts.report, "yesterday's report\n").unwrap();

    let mut writer = ReportWriter::create(opts.clone()).unwrap();
    writer.record(finished(0, Status::Created)).unwrap();
    assert_eq!(
        fs::read_to_string(&opts.report).unwrap(),
        "yesterday's report\n"
    );
    drop(writer); // a crash or error before finish
    assert_eq!(
        fs::read_to_string(&opts.report).unwrap(),
        "yesterday's report\n"
    );
    assert!(!opts.failures.as_ref().unwrap().exists());
    assert!(no_partial_files(dir.path()));

    let mut writer = ReportWriter::create(opts.clone()).unwrap();
    writer.record(finished(0, Status::Created)).unwrap();
    writer.finish().unwrap();
    assert!(fs::read_to_string(&opts.report)
        .unwrap()
        .starts_with("row,status,id,key,message"));
}

#[test]
fn finish_after_an_interrupt_writes_the_rows_that_finished_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = ReportWriter::create(options(dir.path(), ReportFormat::Csv, false)).unwrap();
    // Rows 0 and 2 never finished (in flight when Ctrl-C came).
    for seq in [4, 1, 3] {
        writer.record(finished(seq, Status::Created)).unwrap();
    }
    assert_eq!(writer.counts().created, 3, "held-back rows are counted");
    let files = writer.finish().unwrap();
    let (_, rows) = read_csv(&files.report);
    let numbers: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(numbers, ["3", "5", "6"]);
}

#[test]
fn failures_file_holds_the_original_cells_and_loads_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), ReportFormat::Csv, true);
    let mut writer = ReportWriter::create(opts.clone()).unwrap();
    let tricky = [
        vec![
            "Müller, Jürgen".to_string(),
            "jm@example.com".into(),
            "said \"hi\"\nthen left".into(),
        ],
        vec![
            "Иванов".to_string(),
            "иван@пример.рф".into(),
            "  spaces kept  ".into(),
        ],
        vec!["山田太郎".to_string(), "".into(), "=1+1".into()],
    ];
    for (seq, cells) in tricky.iter().enumerate() {
        let mut row = finished(
            seq as u64,
            if seq == 1 {
                Status::Created
            } else {
                Status::Failed
            },
        );
        row.cells = cells.clone();
        row.outcome.message = format!("row {} broke, \"badly\"", seq + 2);
        writer.record(row).unwrap();
    }
    writer.finish().unwrap();

    let (header, rows) = read_csv(opts.failures.as_ref().unwrap());
    assert_eq!(header, ["Name", "E-Mail", "Notes", ERROR_COLUMN]);
    assert_eq!(rows.len(), 2, "only failed and invalid rows");
    for (row, original) in rows.iter().zip([&tricky[0], &tricky[2]]) {
        assert_eq!(&row[..3], &original[..]);
    }
    assert_eq!(rows[0][3], "row 2 broke, \"badly\"");
    assert_eq!(rows[1][3], "row 4 broke, \"badly\"");
}

#[test]
fn failures_file_loaded_again_gets_a_fresh_error_column_not_a_second_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), ReportFormat::Csv, true);
    opts.headers = ["Name", ERROR_COLUMN, "E-Mail"].map(String::from).to_vec();
    let mut writer = ReportWriter::create(opts.clone()).unwrap();
    let mut row = finished(0, Status::Invalid);
    row.cells = vec!["Kelly".into(), "old error".into(), "kelly@".into()];
    row.outcome.message = "new error".into();
    writer.record(row).unwrap();
    writer.finish().unwrap();

    let (header, rows) = read_csv(opts.failures.as_ref().unwrap());
    assert_eq!(header, ["Name", "E-Mail", ERROR_COLUMN]);
    assert_eq!(rows, [["Kelly", "kelly@", "new error"]]);
}

#[test]
fn short_rows_are_padded_so_the_error_stays_under_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), ReportFormat::Csv, true);
    let mut writer = ReportWriter::create(opts.clone()).unwrap();
    let mut row = finished(0, Status::Invalid);
    row.cells = vec!["Kelly".into()];
    row.outcome.message = "missing e-mail".into();
    writer.record(row).unwrap();
    writer.finish().unwrap();
    let (_, rows) = read_csv(opts.failures.as_ref().unwrap());
    assert_eq!(rows, [["Kelly", "", "", "missing e-mail"]]);
}

#[test]
fn default_report_path_sits_beside_the_input() {
    let input = PathBuf::from("data").join("contacts.csv");
    assert_eq!(
        default_report_path(&input, ReportFormat::Csv),
        PathBuf::from("data").join("contacts.report.csv")
    );
    assert_eq!(
        default_report_path(Path::new("export.2024.xlsx"), ReportFormat::Json),
        PathBuf::from("export.2024.report.json")
    );
}

fn sample_summary(dir: &Path) -> Summary {
    let mut counts = StatusCounts::default();
    for (status, n) in [
        (Status::Created, 900),
        (Status::Updated, 50),
        (Status::Unchanged, 30),
        (Status::Invalid, 15),
        (Status::Failed, 5),
    ] {
        for _ in 0..n {
            counts.add(status);
        }
    }
    Summary {
        input: "contacts.csv".into(),
        table: "CONTACTS".into(),
        rows: counts.total(),
        counts,
        resumed: 120,
        elapsed_seconds: 12.5,
        write_calls: 958,
        retries: 12,
        throttled: 3,
        in_doubt_verified: 2,
        report: Some(dir.join("contacts.report.csv")),
        failures: Some(dir.join("contacts.failures.csv")),
        journal: Some(dir.join("contacts.report.csv.journal")),
        exit_code: Summary::exit_for(&counts, false).code(),
        ..Summary::default()
    }
}

#[test]
fn summary_json_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    let summary = sample_summary(dir.path());
    let path = dir.path().join("summary.json");
    summary.write_json(&path).unwrap();
    let value: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "input",
            "table",
            "dry_run",
            "interrupted",
            "rows",
            "counts",
            "resumed",
            "elapsed_seconds",
            "write_calls",
            "retries",
            "throttled",
            "in_doubt_verified",
            "report",
            "failures",
            "journal",
            "exit_code"
        ]
    );
    assert_eq!(
        value["counts"],
        json!({
            "created": 900, "updated": 50, "unchanged": 30, "skipped": 0,
            "would_create": 0, "would_update": 0, "invalid": 15, "failed": 5
        })
    );
    assert_eq!(value["rows"], 1000);
    assert_eq!(value["exit_code"], 3);
    let back: Summary = serde_json::from_value(value).unwrap();
    assert_eq!(back, summary);
}

#[test]
fn summary_block_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let summary = sample_summary(dir.path());
    // Temp paths differ per run.
    let text = summary
        .render()
        .replace(&dir.path().display().to_string(), "[DIR]");
    insta::assert_snapshot!(text);

    let dry = Summary {
        dry_run: true,
        counts: StatusCounts {
            would_create: 7,
            would_update: 2,
            unchanged: 1,
            ..StatusCounts::default()
        },
        rows: 10,
        input: "contacts.csv".into(),
        table: "CONTACTS".into(),
        elapsed_seconds: 0.4,
        ..Summary::default()
    };
    insta::assert_snapshot!("summary_dry_run", dry.render());

    let interrupted = Summary {
        interrupted: true,
        ..dry
    };
    assert!(interrupted.render().contains("--resume"));
}

#[test]
fn exit_code_is_3_for_any_invalid_or_failed_row_and_130_when_interrupted() {
    let mut counts = StatusCounts::default();
    for status in [
        Status::Created,
        Status::Updated,
        Status::Unchanged,
        Status::Skipped,
    ] {
        counts.add(status);
    }
    assert_eq!(Summary::exit_for(&counts, false), Exit::Success);
    assert_eq!(Summary::exit_for(&counts, true), Exit::Interrupted);
    let mut invalid = counts;
    invalid.add(Status::Invalid);
    assert_eq!(Summary::exit_for(&invalid, false), Exit::RowsFailed);
    let mut failed = counts;
    failed.add(Status::Failed);
    assert_eq!(Summary::exit_for(&failed, false), Exit::RowsFailed);
}

#[test]
fn secrets_in_messages_never_reach_the_report_or_the_failures_file() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), ReportFormat::Csv, true);
    let mut writer = ReportWriter::create(opts.clone()).unwrap();
    let mut row = finished(0, Status::Failed);
    row.outcome.message =
        "POST http://crm.local/plugins/servlet/crm/api?apiKey=s3cr3t-key&command=add: reset".into();
    writer.record(row).unwrap();
    writer.finish().unwrap();
    for path in [&opts.report, opts.failures.as_ref().unwrap()] {
        let text = fs::read_to_string(path).unwrap();
        assert!(!text.contains("s3cr3t-key"), "{text}");
        assert!(text.contains("apiKey=(redacted)"), "{text}");
    }
}
