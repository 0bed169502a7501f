//! The journal: round trip, the torn last line a `kill -9` leaves, damage elsewhere, in-doubt
//! rows, refusing a changed input or changed options, one writer at a time, and completing
//! a report from a journal plus new outcomes.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crm_bulk::journal::{
    journal_path, InputIdentity, Journal, JournalError, JournalHeader, SyncPolicy,
};
use crm_bulk::report::{
    Action, Finished, ReportFormat, ReportOptions, ReportWriter, RowOutcome, Status,
};

struct Setup {
    dir: tempfile::TempDir,
    input: PathBuf,
    journal: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("contacts.csv");
    fs::write(
        &input,
        "Name,E-Mail\nAda,ada@example.com\nBob,bob@example.com\n",
    )
    .unwrap();
    let journal = journal_path(&dir.path().join("contacts.report.csv"));
    Setup {
        dir,
        input,
        journal,
    }
}

fn header(input: &Path) -> JournalHeader {
    JournalHeader::new(
        InputIdentity::of(input).unwrap(),
        "CONTACTS",
        "upsert",
        "Name",
    )
}

fn created(row: u64, key: &str, id: &str) -> RowOutcome {
    RowOutcome {
        id: Some(id.to_string()),
        action: Action::Create,
        attempts: 1,
        changed: vec!["Name".into()],
        ..RowOutcome::new(row, Status::Created, key)
    }
}

fn append_raw(path: &Path, bytes: &[u8]) {
    let mut file = OpenOptions::new().append(true).open(path).unwrap();
    file.write_all(bytes).unwrap();
}

#[test]
fn journal_path_appends_to_the_report_name() {
    assert_eq!(
        journal_path(Path::new("out/contacts.report.csv")),
        PathBuf::from("out/contacts.report.csv.journal")
    );
}

#[test]
fn input_identity_is_size_and_sha256_of_the_contents() {
    let s = setup();
    let id = InputIdentity::of(&s.input).unwrap();
    assert_eq!(id.size, 52);
    // `sha256sum` of the exact bytes written in setup().
    assert_eq!(
        id.sha256,
        "f099f63bab2179bea7ad2dd05d5012c23e7ce2d773e4a7fbfbc3d8f402953df1"
    );
    fs::write(
        &s.input,
        "Name,E-Mail\nAda,ada@example.org\nBob,bob@example.com\n",
    )
    .unwrap();
    assert_ne!(InputIdentity::of(&s.input).unwrap().sha256, id.sha256);
}

#[test]
fn round_trip_keeps_header_finished_rows_and_in_doubt_rows() {
    let s = setup();
    let header = header(&s.input);
    let journal = Journal::create(&s.journal, &header, SyncPolicy::default()).unwrap();
    journal.intent(2, "Ada", Action::Create).unwrap();
    journal.done(&created(2, "Ada", "101")).unwrap();
    journal.intent(3, "Bob", Action::Create).unwrap();
    let invalid = RowOutcome {
        message: "row 4, column \"E-Mail\": \"x@\" is not an e-mail address".into(),
        ..RowOutcome::new(4, Status::Invalid, "Cy")
    };
    journal.done(&invalid).unwrap();
    journal.sync().unwrap();

    let state = Journal::load(&s.journal).unwrap();
    assert_eq!(state.header, header);
    assert_eq!(state.finished.len(), 2);
    assert_eq!(state.finished[&2], created(2, "Ada", "101"));
    assert_eq!(state.finished[&4], invalid);
    let in_doubt: Vec<(u64, &str, Action)> = state
        .in_doubt
        .values()
        .map(|i| (i.row, i.key.as_str(), i.action))
        .collect();
    assert_eq!(in_doubt, [(3, "Bob", Action::Create)]);
    assert!(!state.complete);
    assert!(!state.torn_tail);

    journal.mark_complete().unwrap();
    assert!(Journal::load(&s.journal).unwrap().complete);
}

#[test]
fn lines_reach_the_file_when_the_batch_limit_is_hit_without_an_explicit_sync() {
    let s = setup();
    let policy = SyncPolicy {
        every: std::time::Duration::from_secs(3600),
        lines: 2,
    };
    let journal = Journal::create(&s.journal, &header(&s.input), policy).unwrap();
    journal.intent(2, "Ada", Action::Create).unwrap();
    journal.done(&created(2, "Ada", "101")).unwrap();
    journal.intent(3, "Bob", Action::Create).unwrap();
    // Simulates the process dying now: the third line was still in the buffer.
    let state = Journal::load(&s.journal).unwrap();
    assert!(state.finished.contains_key(&2));
    assert!(state.in_doubt.is_empty());
}

#[test]
fn torn_last_line_is_ignored_and_cut_off_when_resuming() {
    let s = setup();
    let journal = Journal::create(&s.journal, &header(&s.input), SyncPolicy::default()).unwrap();
    journal.intent(2, "Ada", Action::Create).unwrap();
    journal.done(&created(2, "Ada", "101")).unwrap();
    journal.intent(3, "Bob", Action::Create).unwrap();
    journal.sync().unwrap();
    drop(journal);
    // kill -9 in the middle of writing row 3's outcome.
    append_raw(&s.journal, br#"{"event":"done","row":3,"status":"crea"#);

    let state = Journal::load(&s.journal).unwrap();
    assert!(state.torn_tail);
    assert_eq!(state.finished.keys().collect::<Vec<_>>(), [&2]);
    assert_eq!(state.in_doubt.keys().collect::<Vec<_>>(), [&3]);

    let journal = Journal::reopen(&s.journal, &state, SyncPolicy::default()).unwrap();
    journal.done(&created(3, "Bob", "102")).unwrap();
    journal.sync().unwrap();
    drop(journal);
    let state = Journal::load(&s.journal).unwrap();
    assert!(
        !state.torn_tail,
        "the torn fragment was cut before appending"
    );
    assert_eq!(state.finished.keys().collect::<Vec<_>>(), [&2, &3]);
    assert!(state.in_doubt.is_empty());
    let text = fs::read_to_string(&s.journal).unwrap();
    assert!(!text.contains("\"crea\""), "fragment gone: {text}");
}

#[test]
fn a_zero_filled_tail_is_treated_as_torn() {
    let s = setup();
    let journal = Journal::create(&s.journal, &header(&s.input), SyncPolicy::default()).unwrap();
    journal.done(&created(2, "Ada", "101")).unwrap();
    journal.sync().unwrap();
    drop(journal);
    append_raw(&s.journal, &[0u8; 64]);
    let state = Journal::load(&s.journal).unwrap();
    assert!(state.torn_tail);
    assert_eq!(state.finished.len(), 1);
}

#[test]
fn damage_before_the_last_line_is_refused_with_its_line_number() {
    let s = setup();
    let journal = Journal::create(&s.journal, &header(&s.input), SyncPolicy::default()).unwrap();
    journal.sync().unwrap();
    drop(journal);
    append_raw(&s.journal, b"garbage\n");
    append_raw(&s.journal, br#"{"event":"end"}"#);
    append_raw(&s.journal, b"\n");
    let err = Journal::load(&s.journal).unwrap_err();
    assert!(
        matches!(err, JournalError::Corrupt { line: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn a_file_that_is_not_a_journal_is_refused() {
    let s = setup();
    fs::write(&s.journal, "row,status\n2,created\n").unwrap();
    let err = Journal::load(&s.journal).unwrap_err();
    assert!(matches!(err, JournalError::NotAJournal { .. }), "{err:?}");
}

#[test]
fn a_missing_journal_says_there_is_nothing_to_resume() {
    let s = setup();
    let err = Journal::load(&s.journal).unwrap_err();
    assert!(matches!(err, JournalError::Missing { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing to resume"), "{err}");
}

#[test]
fn the_last_event_for_a_row_wins() {
    let s = setup();
    let journal = Journal::create(&s.journal, &header(&s.input), SyncPolicy::default()).unwrap();
    journal.intent(2, "Ada", Action::Create).unwrap();
    journal.done(&created(2, "Ada", "101")).unwrap();
    journal.intent(2, "Ada", Action::Link).unwrap();
    journal.sync().unwrap();
    let state = Journal::load(&s.journal).unwrap();
    assert!(state.finished.is_empty());
    assert_eq!(state.in_doubt[&2].action, Action::Link);
}

#[test]
fn resume_accepts_the_same_input_and_refuses_a_changed_one_unless_forced() {
    let s = setup();
    let recorded = header(&s.input);
    recorded.check_resume(&header(&s.input), false).unwrap();

    fs::write(
        &s.input,
        "Name,E-Mail\nBob,bob@example.com\nAda,ada@example.com\n",
    )
    .unwrap();
    let now = header(&s.input);
    let err = recorded.check_resume(&now, false).unwrap_err();
    assert!(matches!(err, JournalError::InputChanged { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("contacts.csv has changed"), "{message}");
    assert!(message.contains("--force"), "{message}");
    recorded.check_resume(&now, true).unwrap();
}

#[test]
fn resume_refuses_other_options_even_when_forced() {
    let s = setup();
    let recorded = header(&s.input);
    let mut other = header(&s.input);
    other.mode = "insert".into();
    let err = recorded.check_resume(&other, true).unwrap_err();
    assert!(
        err.to_string()
            .contains("--mode \"upsert\" but this run uses \"insert\""),
        "{err}"
    );
}

#[test]
fn a_second_run_cannot_open_a_journal_in_use() {
    let s = setup();
    let first = Journal::create(&s.journal, &header(&s.input), SyncPolicy::default()).unwrap();
    first.done(&created(2, "Ada", "101")).unwrap();
    first.sync().unwrap();
    let err = Journal::create(&s.journal, &header(&s.input), SyncPolicy::default())
        .err()
        .expect("locked");
    assert!(matches!(err, JournalError::Locked { .. }), "{err:?}");
    // The running import's journal was not truncated by the refused attempt.
    assert_eq!(Journal::load(&s.journal).unwrap().finished.len(), 1);
    drop(first);
    Journal::create(&s.journal, &header(&s.input), SyncPolicy::default()).unwrap();
}

#[test]
fn a_resumed_run_completes_the_report_in_row_order() {
    let s = setup();
    let journal = Journal::create(&s.journal, &header(&s.input), SyncPolicy::default()).unwrap();
    for (row, key) in [(3, "Bob"), (5, "Dee")] {
        journal.intent(row, key, Action::Create).unwrap();
        journal
            .done(&created(row, key, &format!("{}", 100 + row)))
            .unwrap();
    }
    journal.intent(4, "Cy", Action::Create).unwrap();
    journal.sync().unwrap();
    drop(journal);

    // The resumed run: rows 2..=6 in input order; finished ones come from the journal, the
    // rest (row 4 was in doubt, verified by key) from new work, arriving out of order.
    let mut state = Journal::load(&s.journal).unwrap();
    let report = s.dir.path().join("contacts.report.csv");
    let mut writer = ReportWriter::create(ReportOptions {
        report: report.clone(),
        format: ReportFormat::Csv,
        failures: None,
        headers: vec!["Name".into(), "E-Mail".into()],
    })
    .unwrap();
    let rows = [(2, "Ada"), (3, "Bob"), (4, "Cy"), (5, "Dee"), (6, "Eve")];
    let mut new_work = Vec::new();
    for (seq, (row, key)) in rows.iter().enumerate() {
        let seq = seq as u64;
        match state.finished.remove(row) {
            Some(outcome) => writer
                .record(Finished {
                    seq,
                    outcome,
                    cells: vec![],
                })
                .unwrap(),
            None => {
                let mut outcome = created(*row, key, &format!("{}", 100 + row));
                outcome.verified = state.in_doubt.contains_key(row);
                new_work.push(Finished {
                    seq,
                    outcome,
                    cells: vec![],
                });
            }
        }
    }
    for finished in new_work.into_iter().rev() {
        writer.record(finished).unwrap();
    }
    writer.finish().unwrap();

    let mut reader = csv::Reader::from_path(&report).unwrap();
    let got: Vec<(String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[2].to_string(), r[7].to_string())
        })
        .collect();
    let expected: Vec<(String, String, String)> = [
        ("2", "102", "false"),
        ("3", "103", "false"),
        ("4", "104", "true"),
        ("5", "105", "false"),
        ("6", "106", "false"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn secrets_in_messages_never_reach_the_journal() {
    let s = setup();
    let journal = Journal::create(&s.journal, &header(&s.input), SyncPolicy::default()).unwrap();
    let outcome = RowOutcome {
        message: "GET http://crm.local/x?apiKey=s3cr3t-key failed".into(),
        ..RowOutcome::new(2, Status::Failed, "Ada")
    };
    journal.done(&outcome).unwrap();
    journal.sync().unwrap();
    let text = fs::read_to_string(&s.journal).unwrap();
    assert!(!text.contains("s3cr3t-key"), "{text}");
}
