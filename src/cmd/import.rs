//! `crm-bulk import FILE --table T`: the main job. Orchestrates the pre-flight (every row
//! checked before anything is written), the dictionary values to add first, the worker pool
//! that sends the writes exactly once, the journal that lets `--resume` finish a killed run,
//! the per-row report, progress, and the summary. The stages do the work; this module only
//! wires them together and turns the result into an exit status.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::validate::CheckArgs;
use crate::cli::ConnectArgs;
use crate::client::Client;
use crate::execute::{ExecOptions, Hooks, Job, Outcome, Pool, Stop, StopReason, WriteOp, Written};
use crate::exit::Exit;
use crate::journal::{
    journal_path, InputIdentity, Journal, JournalHeader, JournalState, SyncPolicy,
};
use crate::preflight::{
    self, mode_name, CheckOptions, Checked, Mode, PassOptions, Prepared, RowChecker,
};
use crate::progress::Progress;
use crate::report::{Action, Finished, ReportFiles, ReportWriter, RowOutcome, Status};
use crate::summary::Summary;

#[derive(Debug, Args)]
#[command(after_long_help = IMPORT_HELP)]
pub struct ImportArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Write calls in flight at once, all under the shared --rate limit.
    #[arg(long, value_name = "N", default_value = "4", help_heading = "Sending")]
    pub concurrency: NonZeroUsize,
    /// Check every row and write the report a real import would, without writing anything.
    #[arg(long, help_heading = "Sending")]
    pub dry_run: bool,
    /// Load the valid rows even when some rows are invalid (they are reported, exit 3).
    #[arg(long, help_heading = "Sending", conflicts_with = "max_invalid")]
    pub skip_invalid: bool,
    /// Load the valid rows when at most N rows are invalid; more stops the run before any write.
    #[arg(long, value_name = "N", help_heading = "Sending")]
    pub max_invalid: Option<u64>,
    /// Finish an interrupted or killed run: skip rows its journal finished, verify the
    /// in-doubt ones by key, complete the report.
    #[arg(long, help_heading = "Sending")]
    pub resume: bool,
    /// With --resume: resume even though the input file changed since the interrupted run.
    #[arg(long, help_heading = "Sending", requires = "resume")]
    pub force: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

const IMPORT_HELP: &str = concat!(
    "\
Examples:
  crm-bulk import companies.csv --table companies
  crm-bulk import contacts.xlsx --table contacts --mode upsert --key \"E-Mail\"
  crm-bulk import erp.csv --table companies --map erp.toml --key \"ERP ID\" --mode upsert --empty keep
  crm-bulk import big.csv --table companies --dry-run
  crm-bulk import big.csv --table companies --resume        # after a crash or Ctrl-C

Every row is checked before anything is written; a file with invalid rows writes nothing
unless --skip-invalid or --max-invalid N. Only changed attributes are sent: an unchanged
reload makes no write calls. --empty keep (the default) leaves stored values alone where a
cell is empty; the vendor's own importer clears them (--empty clear).
A create whose answer is lost is looked up by its key before anything is resent, so no row
is created twice. The journal beside the report (<report>.journal) lets --resume finish a
killed run exactly once.

",
    crate::exit_codes_help!()
);

/// Settings of a real import, beyond the pre-flight's.
#[derive(Debug, Clone)]
struct Settings {
    concurrency: usize,
    skip_invalid: bool,
    max_invalid: Option<u64>,
    resume: bool,
    force: bool,
    max_resends: u32,
}

pub fn run(args: ImportArgs) -> anyhow::Result<Exit> {
    let options = args.check.options()?;
    let settings = Settings {
        concurrency: args.concurrency.get(),
        skip_invalid: args.skip_invalid,
        max_invalid: args.max_invalid,
        resume: args.resume,
        force: args.force,
        max_resends: args.connect.max_retries.max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let connection = crate::client::connect(&args.connect)?;
        let client = connection.client.clone();
        if args.dry_run {
            let how = preflight::DryRun {
                show_mapping: true,
                verb: "import --dry-run",
            };
            return preflight::dry_run(&client, &options, how).await;
        }
        import(client, options, settings).await
    })
}

/// What an earlier run's journal settles for this one.
#[derive(Default)]
struct Resumed {
    /// Outcomes finished by the earlier run, copied into the new report.
    finished: BTreeMap<u64, RowOutcome>,
    /// Unfinished rows whose entry exists: the earlier run created it (entry id).
    recovered: HashMap<u64, String>,
}

async fn import(client: Client, options: CheckOptions, settings: Settings) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let journal_file = journal_path(&options.report);
    let mut prepared = preflight::prepare(&client, &options).await?;
    let key_header = key_header(&prepared);
    let header = JournalHeader::new(
        InputIdentity::of(&options.file)?,
        &prepared.table.table,
        mode_name(options.mode),
        &key_header,
    );
    let (state, resumed) = if settings.resume {
        let state = Journal::load(&journal_file)?;
        state.header.check_resume(&header, settings.force)?;
        let resumed = recover(&mut prepared, &options, &state)?;
        (Some(state), resumed)
    } else {
        (None, Resumed::default())
    };
    let settled =
        |row: u64| resumed.finished.contains_key(&row) || resumed.recovered.contains_key(&row);
    let pass = PassOptions {
        skip_rows: &settled,
        print_problems: true,
    };
    let tally = preflight::pass1(&prepared, &options, &pass)?;
    let tolerated =
        settings.skip_invalid || settings.max_invalid.is_some_and(|max| tally.invalid <= max);
    if tally.invalid > 0 && !tolerated {
        return blocked(&prepared, &options, &resumed, tally.invalid, started);
    }
    add_missing_options(&client, &tally.missing_options).await?;

    let journal = Arc::new(match &state {
        Some(state) => Journal::reopen(&journal_file, state, SyncPolicy::default())?,
        None => Journal::create(&journal_file, &header, SyncPolicy::default())?,
    });
    let run = Run {
        client,
        options: Arc::new(options),
        prepared: Arc::new(prepared),
        settings,
        journal,
        resumed: Arc::new(resumed),
        total: tally.rows,
    };
    run.execute(started).await
}

fn key_header(prepared: &Prepared) -> String {
    prepared
        .mapping
        .column_for(&prepared.key.code)
        .map(|c| c.header.clone())
        .unwrap_or_else(|| prepared.key.name.clone())
}

/// On resume: rows the journal finished are copied; an unfinished row whose entry now exists
/// was created by the interrupted run when it was a create, so it is reported as created
/// (verified) and its entry is taken out of the pre-flight's view, where it would otherwise
/// look like a conflict.
fn recover(
    prepared: &mut Prepared,
    options: &CheckOptions,
    state: &JournalState,
) -> anyhow::Result<Resumed> {
    let mut resumed = Resumed {
        finished: state.finished.clone(),
        recovered: HashMap::new(),
    };
    let Some(column) = prepared
        .mapping
        .column_for(&prepared.key.code)
        .map(|c| c.index)
    else {
        return Ok(resumed);
    };
    let key_code = prepared.key.code.clone();
    let mut by_key: HashMap<String, String> = HashMap::new();
    for entry in &prepared.existing {
        if let Some(value) = entry.text(&key_code) {
            by_key.insert(value.trim().to_lowercase(), entry.id.clone());
        }
    }
    preflight::for_each_record(prepared, options, |_, record| {
        if resumed.finished.contains_key(&record.row) {
            return Ok(());
        }
        let was_create = match state.in_doubt.get(&record.row) {
            Some(intent) => intent.action == Action::Create,
            None => options.mode == Mode::Insert,
        };
        let key = record
            .values
            .get(column)
            .map(|v| v.trim().to_lowercase())
            .unwrap_or_default();
        if let (true, Some(id)) = (was_create && !key.is_empty(), by_key.get(&key)) {
            resumed.recovered.insert(record.row, id.clone());
        }
        Ok(())
    })?;
    let ids: std::collections::HashSet<&String> = resumed.recovered.values().collect();
    prepared.existing.retain(|e| !ids.contains(&e.id));
    Ok(resumed)
}

/// A file with invalid rows writes nothing: the report lists the invalid rows with their
/// problems and every other row as skipped.
fn blocked(
    prepared: &Prepared,
    options: &CheckOptions,
    resumed: &Resumed,
    invalid: u64,
    started: Instant,
) -> anyhow::Result<Exit> {
    let mut writer = ReportWriter::create(preflight::report_options(prepared, options))?;
    let mut checker = RowChecker::new(prepared, options)?;
    let why = format!(
        "not loaded: {invalid} rows of the file are invalid and nothing was written; \
         fix them, or load the valid rows with --skip-invalid"
    );
    preflight::for_each_record(prepared, options, |seq, record| {
        if let Some(done) = resumed.finished.get(&record.row) {
            return Ok(writer.record(Finished {
                seq,
                outcome: done.clone(),
                cells: Vec::new(),
            })?);
        }
        let row = record.row;
        let (checked, record) = checker.check(record);
        let (outcome, cells) = match checked {
            Checked::Invalid { key, problems } => {
                let message = preflight::problems_message(&problems);
                (
                    RowOutcome {
                        message,
                        ..RowOutcome::new(row, Status::Invalid, key)
                    },
                    record.values,
                )
            }
            checked => {
                let message = why.clone();
                (
                    RowOutcome {
                        message,
                        ..RowOutcome::new(row, Status::Skipped, checked_key(&checked))
                    },
                    Vec::new(),
                )
            }
        };
        Ok(writer.record(Finished {
            seq,
            outcome,
            cells,
        })?)
    })?;
    let files = writer.finish()?;
    finish_summary(
        prepared,
        options,
        &files,
        SummaryExtras {
            started: Some(started),
            ..SummaryExtras::default()
        },
    )
}

fn checked_key(checked: &Checked) -> String {
    match checked {
        Checked::Invalid { key, .. }
        | Checked::Create { key, .. }
        | Checked::Update { key, .. }
        | Checked::Unchanged { key, .. } => key.clone(),
    }
}

/// `--create-missing-options`: dictionary values are added before the rows that use them.
async fn add_missing_options(
    client: &Client,
    missing: &std::collections::BTreeSet<(String, String)>,
) -> anyhow::Result<()> {
    for (dictionary, label) in missing {
        match client.add_dictionary_value(dictionary, label).await {
            Ok(_) => tracing::info!("added \"{label}\" to dictionary {dictionary}"),
            // Another run added it meanwhile: the rows can use it all the same.
            Err(err)
                if !err.fields().is_empty() && err.fields().iter().all(|f| f.is_duplicate()) => {}
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("cannot add \"{label}\" to dictionary {dictionary}"))
            }
        }
    }
    Ok(())
}

#[derive(Default)]
struct SummaryExtras {
    started: Option<Instant>,
    interrupted: bool,
    resumed: u64,
    in_doubt_verified: u64,
    stats: Option<crate::client::ClientStats>,
    journal: Option<std::path::PathBuf>,
}

fn finish_summary(
    prepared: &Prepared,
    options: &CheckOptions,
    files: &ReportFiles,
    extras: SummaryExtras,
) -> anyhow::Result<Exit> {
    let mut summary = Summary {
        input: options.file.display().to_string(),
        table: prepared.table.table.clone(),
        interrupted: extras.interrupted,
        rows: files.counts.total(),
        counts: files.counts,
        resumed: extras.resumed,
        in_doubt_verified: extras.in_doubt_verified,
        report: Some(files.report.clone()),
        failures: files.failures.clone(),
        journal: extras.journal,
        ..Summary::default()
    };
    if let Some(stats) = extras.stats {
        summary.write_calls = stats.write_calls;
        summary.retries = stats.retries;
        summary.throttled = stats.throttled;
    }
    if let Some(started) = extras.started {
        summary.set_elapsed(started.elapsed());
    }
    let exit = Summary::exit_for(&summary.counts, extras.interrupted);
    summary.exit_code = exit.code();
    eprint!("{}", summary.render());
    if let Some(path) = &options.summary_json {
        summary.write_json(path)?;
    }
    Ok(exit)
}

/// What the workers carry per row and get back in their outcome.
struct Payload {
    seq: u64,
    row: u64,
    key: String,
    action: Action,
    changed: Vec<String>,
    cells: Vec<String>,
}

/// Where finished rows go: the journal (durably) and the one report writer.
struct ImportHooks {
    journal: Arc<Journal>,
    report: Mutex<std_mpsc::Sender<Finished>>,
    progress: Progress,
    verified: AtomicU64,
}

/// Whether a finished row goes into this run's journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Journaled {
    Yes,
    No,
}

impl ImportHooks {
    /// Records one finished row; rows copied from an earlier journal and rows never sent (a
    /// resumed run must send those) are not journaled.
    fn emit(&self, seq: u64, outcome: RowOutcome, cells: Vec<String>, journal: Journaled) {
        let finished = Finished {
            seq,
            outcome,
            cells,
        };
        if journal == Journaled::Yes {
            if let Err(err) = self.journal.done(&finished.outcome) {
                tracing::error!("{err}");
            }
        }
        self.progress.row(finished.outcome.status.is_failure());
        if let Ok(report) = self.report.lock() {
            // The writer only goes away after every sender has; an error here cannot happen.
            let _ = report.send(finished);
        }
    }
}

impl Hooks<Payload> for ImportHooks {
    fn before_create(&self, payload: &Payload) -> std::io::Result<()> {
        self.journal
            .intent(payload.row, &payload.key, Action::Create)
            .map_err(std::io::Error::other)
    }

    fn finished(&self, outcome: Outcome<Payload>) {
        let Outcome {
            written,
            id,
            message,
            attempts,
            verified,
            payload,
        } = outcome;
        let status = match written {
            Written::Created => Status::Created,
            Written::Updated => Status::Updated,
            Written::Failed => Status::Failed,
            Written::NotSent => Status::Skipped,
        };
        if verified {
            self.verified.fetch_add(1, Ordering::Relaxed);
        }
        let cells = if status.is_failure() {
            payload.cells
        } else {
            Vec::new()
        };
        let outcome = RowOutcome {
            id,
            message,
            action: payload.action,
            attempts,
            verified,
            changed: payload.changed,
            ..RowOutcome::new(payload.row, status, payload.key)
        };
        let journal = match written {
            Written::NotSent => Journaled::No,
            _ => Journaled::Yes,
        };
        self.emit(payload.seq, outcome, cells, journal);
    }
}

/// One real import, past the pre-flight.
struct Run {
    client: Client,
    options: Arc<CheckOptions>,
    prepared: Arc<Prepared>,
    settings: Settings,
    journal: Arc<Journal>,
    resumed: Arc<Resumed>,
    total: u64,
}

impl Run {
    async fn execute(self, started: Instant) -> anyhow::Result<Exit> {
        let (tx, rx) = std_mpsc::channel::<Finished>();
        let writer =
            ReportWriter::create(preflight::report_options(&self.prepared, &self.options))?;
        let report_thread = std::thread::spawn(move || writer.drain(rx));
        let all_rows =
            self.total + self.resumed.finished.len() as u64 + self.resumed.recovered.len() as u64;
        let hooks = Arc::new(ImportHooks {
            journal: self.journal.clone(),
            report: Mutex::new(tx),
            progress: Progress::new(all_rows, false),
            verified: AtomicU64::new(0),
        });
        let stop = Stop::default();
        let interrupt = {
            let stop = stop.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.request(StopReason::Interrupted);
                }
            })
        };
        let exec = ExecOptions {
            table: self.prepared.table.clone(),
            key: self.prepared.key.clone(),
            concurrency: self.settings.concurrency,
            max_resends: self.settings.max_resends,
            update_on_duplicate_key: self.options.mode == Mode::Upsert,
        };
        let pool = Pool::start(self.client.clone(), exec, hooks.clone(), stop.clone());
        let feeder = Feeder {
            prepared: self.prepared.clone(),
            options: self.options.clone(),
            resumed: self.resumed.clone(),
            hooks: hooks.clone(),
            jobs: pool.sender(),
            stop: stop.clone(),
        };
        let fed = tokio::task::spawn_blocking(move || feeder.feed()).await;
        pool.finish().await;
        interrupt.abort();
        hooks.progress.finish();
        let verified = hooks.verified.load(Ordering::Relaxed);
        drop(hooks);
        let files = report_thread
            .join()
            .map_err(|_| anyhow::anyhow!("the report writer stopped unexpectedly"))??;
        fed.context("the file reader stopped unexpectedly")??;
        let reason = stop.reason();
        match reason {
            None => self.journal.mark_complete()?,
            Some(_) => self.journal.sync()?,
        }
        let extras = SummaryExtras {
            started: Some(started),
            interrupted: reason == Some(StopReason::Interrupted),
            resumed: self.resumed.finished.len() as u64,
            in_doubt_verified: verified + self.resumed.recovered.len() as u64,
            stats: Some(self.client.stats()),
            journal: Some(self.journal.path().to_path_buf()),
        };
        let exit = finish_summary(&self.prepared, &self.options, &files, extras)?;
        if let Some(StopReason::Fatal(message)) = reason {
            eprintln!(
                "error: the run stopped: {}",
                crate::secret::redact_text(&message)
            );
            return Ok(Exit::Failure);
        }
        Ok(exit)
    }
}

/// Pass 2, on a blocking thread: checks each row again and either reports it at once
/// (finished earlier, invalid, unchanged) or hands its write to the pool.
struct Feeder {
    prepared: Arc<Prepared>,
    options: Arc<CheckOptions>,
    resumed: Arc<Resumed>,
    hooks: Arc<ImportHooks>,
    jobs: tokio::sync::mpsc::Sender<Job<Payload>>,
    stop: Stop,
}

impl Feeder {
    fn feed(self) -> anyhow::Result<()> {
        let mut checker = RowChecker::new(&self.prepared, &self.options)?;
        let upsert_table = !matches!(self.prepared.table.table.as_str(), "CLIENTS" | "CONTACTS");
        preflight::for_each_record(&self.prepared, &self.options, |seq, record| {
            let row = record.row;
            if let Some(done) = self.resumed.finished.get(&row) {
                self.hooks
                    .emit(seq, done.clone(), Vec::new(), Journaled::No);
                return Ok(());
            }
            if let Some(id) = self.resumed.recovered.get(&row) {
                let outcome = RowOutcome {
                    id: Some(id.clone()),
                    action: Action::Create,
                    verified: true,
                    message: "verified on resume: the interrupted run created it".into(),
                    ..RowOutcome::new(row, Status::Created, key_of(&self.prepared, &record.values))
                };
                self.hooks.emit(seq, outcome, Vec::new(), Journaled::Yes);
                return Ok(());
            }
            let (checked, record) = checker.check(record);
            let Some((key, op, action, changed)) =
                self.plan(checked, seq, row, &record.values, upsert_table)
            else {
                return Ok(());
            };
            let payload = Payload {
                seq,
                row,
                key: key.clone(),
                action,
                changed,
                cells: record.values,
            };
            if self.stop.is_set() {
                let message = "not sent: the run was stopping; rerun with --resume".to_string();
                let outcome = RowOutcome {
                    message,
                    ..RowOutcome::new(row, Status::Skipped, key)
                };
                self.hooks.emit(seq, outcome, Vec::new(), Journaled::No);
                return Ok(());
            }
            if self.jobs.blocking_send(Job { key, op, payload }).is_err() {
                anyhow::bail!("the workers stopped before the file was fed");
            }
            Ok(())
        })
    }

    /// Reports rows that need no write; returns the write of the others.
    fn plan(
        &self,
        checked: Checked,
        seq: u64,
        row: u64,
        cells: &[String],
        upsert_table: bool,
    ) -> Option<(String, WriteOp, Action, Vec<String>)> {
        let names = |values: &[(Arc<crate::schema::Attribute>, String)]| {
            values
                .iter()
                .map(|(a, _)| a.name.clone())
                .collect::<Vec<_>>()
        };
        match checked {
            Checked::Invalid { key, problems } => {
                let message = preflight::problems_message(&problems);
                let outcome = RowOutcome {
                    message,
                    ..RowOutcome::new(row, Status::Invalid, key)
                };
                self.hooks
                    .emit(seq, outcome, cells.to_vec(), Journaled::Yes);
                None
            }
            Checked::Unchanged { key, id } => {
                let outcome = RowOutcome {
                    id: Some(id),
                    ..RowOutcome::new(row, Status::Unchanged, key)
                };
                self.hooks.emit(seq, outcome, Vec::new(), Journaled::Yes);
                None
            }
            Checked::Create { key, values } => {
                let changed = names(&values);
                let op = if upsert_table {
                    WriteOp::Upsert {
                        pairs: pairs(values),
                        creates: true,
                    }
                } else {
                    WriteOp::Add(codes(values))
                };
                Some((key, op, Action::Create, changed))
            }
            Checked::Update {
                key,
                id,
                values,
                link_company,
                entry_name,
            } => {
                let mut changed = names(&values);
                let action = if values.is_empty() {
                    Action::Link
                } else {
                    Action::Update
                };
                if link_company.is_some() {
                    changed.push("Company".into());
                }
                let op = if upsert_table {
                    let mut all = Vec::new();
                    if let (Some(name), Some(attribute)) =
                        (entry_name, self.prepared.table.name_attribute())
                    {
                        if !values.iter().any(|(a, _)| a.code == attribute.code) {
                            all.push((attribute.name.clone(), name));
                        }
                    }
                    all.extend(pairs(values));
                    WriteOp::Upsert {
                        pairs: all,
                        creates: false,
                    }
                } else {
                    WriteOp::Edit {
                        id,
                        values: codes(values),
                        link_company,
                    }
                };
                Some((key, op, action, changed))
            }
        }
    }
}

fn codes(values: Vec<(Arc<crate::schema::Attribute>, String)>) -> Vec<(String, String)> {
    values
        .into_iter()
        .map(|(a, v)| (a.code.clone(), v))
        .collect()
}

fn pairs(values: Vec<(Arc<crate::schema::Attribute>, String)>) -> Vec<(String, String)> {
    values
        .into_iter()
        .map(|(a, v)| (a.name.clone(), v))
        .collect()
}

fn key_of(prepared: &Prepared, cells: &[String]) -> String {
    prepared
        .mapping
        .column_for(&prepared.key.code)
        .and_then(|c| cells.get(c.index))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}
