//! The pre-flight shared by `validate`, `import --dry-run` and a real import: fetch the schema,
//! read the CRM's current entries once per table, map the file's headers, and check every row
//! before anything is written.
//!
//! The file is streamed twice rather than held in memory: pass 1 checks and counts every row
//! (printing each problem), pass 2 checks again and hands each row's plan to the caller, who
//! either reports it (dry run) or sends it (import). This module owns that orchestration and
//! the dry-run report; row checks live in [`rows`], sending lives in `execute`.

pub mod rows;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use crate::client::{Client, Entry};
use crate::exit::Exit;
use crate::map::{MapFile, MapInput, MapOptions, Mapping};
use crate::read::{self, Format, ReadOptions, Record};
use crate::report::{Finished, ReportFormat, ReportOptions, ReportWriter, RowOutcome, Status};
use crate::schema::{AttrKind, Attribute, Schema, TableName, TableSchema};
use crate::summary::Summary;

pub use rows::{mode_name, Checked, EmptyPolicy, Mode, RowChecker};

use crate::validate::RowProblem;

/// Everything the pre-flight needs, validated from the command line.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub file: PathBuf,
    pub table: String,
    pub read: ReadOptions,
    pub map_file: Option<MapFile>,
    pub ignore_unknown: bool,
    pub mode: Mode,
    /// The key header or attribute (`--key`); `None` means the table's name attribute.
    pub key: Option<String>,
    pub empty: EmptyPolicy,
    pub create_missing_options: bool,
    pub report: PathBuf,
    pub report_format: ReportFormat,
    pub failures: Option<PathBuf>,
    pub summary_json: Option<PathBuf>,
}

/// Builds reader options from command-line text; the error is a usage message.
pub fn read_options(
    delimiter: Option<char>,
    encoding: Option<&str>,
    sheet: Option<&str>,
    format: Option<&str>,
) -> Result<ReadOptions, String> {
    let delimiter = match delimiter {
        None => None,
        Some(c) if c.is_ascii() => Some(c as u8),
        Some(c) => {
            return Err(format!(
                "--delimiter {c:?}: a delimiter must be one ASCII character"
            ))
        }
    };
    let format = format.map(str::parse::<Format>).transpose()?;
    Ok(ReadOptions {
        format,
        delimiter,
        encoding: encoding.map(str::to_string),
        sheet: sheet.map(str::to_string),
    })
}

/// What the pre-flight learned before checking rows.
pub struct Prepared {
    pub schema: Schema,
    pub table: TableSchema,
    pub mapping: Mapping,
    /// The attribute rows are matched by.
    pub key: Attribute,
    /// The file's header row, for the failures file.
    pub headers: Vec<String>,
    /// The table's entries, read once.
    pub existing: Vec<Entry>,
    /// Companies as `(id, name)`, read fresh, for company references.
    pub companies: Vec<(String, String)>,
    /// The file's name as messages show it.
    pub file_name: String,
}

/// Fetches the schema and the current entries, and maps the headers.
pub async fn prepare(client: &Client, options: &CheckOptions) -> anyhow::Result<Prepared> {
    let table_name = TableName::resolve(&options.table);
    let mut wanted = vec![table_name.as_str()];
    if table_name != "CLIENTS" {
        wanted.push("CLIENTS");
    }
    let schema = client
        .schema(&wanted)
        .await
        .context("cannot read the CRM's schema")?;
    let table = schema
        .table(&table_name)
        .cloned()
        .with_context(|| format!("the CRM has no table {table_name}"))?;
    let source = read::open(&options.file, &options.read)?;
    let headers = source.headers.clone();
    drop(source);
    let file_name = file_name(&options.file);
    let map_options = MapOptions {
        ignore_unknown: options.ignore_unknown,
    };
    let mapping = Mapping::build(MapInput {
        file: &file_name,
        headers: &headers,
        table: &table,
        map_file: options.map_file.as_ref(),
        options: &map_options,
    })?;
    let key = key_attribute(&mapping, &table, options.key.as_deref())?;
    let existing = client
        .list(&table)
        .await
        .with_context(|| format!("cannot list {table_name}"))?;
    let companies = if table.attributes.iter().any(|a| a.kind == AttrKind::Company) {
        company_names(client, &schema, &table, &existing).await?
    } else {
        Vec::new()
    };
    Ok(Prepared {
        schema,
        table,
        mapping,
        key,
        headers,
        existing,
        companies,
        file_name,
    })
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn key_attribute(
    mapping: &Mapping,
    table: &TableSchema,
    key: Option<&str>,
) -> anyhow::Result<Attribute> {
    match key {
        Some(key) => match mapping.find(key) {
            Some((_, attribute)) => Ok(attribute.clone()),
            None => Err(anyhow::Error::new(crate::cmd::UsageError(format!(
                "--key {key:?} names no column of {}; use a header of the file",
                mapping.file
            )))),
        },
        None => table.name_attribute().cloned().with_context(|| {
            format!(
                "{} has no name attribute; choose the matching column with --key",
                table.table
            )
        }),
    }
}

/// Companies are listed at the start of each run, so one created by an earlier import
/// resolves at once. Importing companies themselves reuses the table's own listing.
async fn company_names(
    client: &Client,
    schema: &Schema,
    table: &TableSchema,
    existing: &[Entry],
) -> anyhow::Result<Vec<(String, String)>> {
    let clients = schema
        .table("CLIENTS")
        .context("the CRM has no companies table (CLIENTS)")?;
    let name_code = clients
        .name_attribute()
        .map(|a| a.code.clone())
        .unwrap_or_else(|| "org_name".into());
    let listed;
    let entries = if table.table == "CLIENTS" {
        existing
    } else {
        listed = client
            .list(clients)
            .await
            .context("cannot list companies")?;
        &listed
    };
    Ok(entries
        .iter()
        .map(|e| {
            (
                e.id.clone(),
                e.text(&name_code).unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// What pass 1 found.
#[derive(Debug, Default)]
pub struct Tally {
    pub rows: u64,
    pub invalid: u64,
    /// Dictionary values to add first (`--create-missing-options`): (dictionary, label).
    pub missing_options: BTreeSet<(String, String)>,
}

/// Options of one pass over the file.
pub struct PassOptions<'a> {
    /// Rows to leave out entirely (finished by an interrupted run).
    pub skip_rows: &'a dyn Fn(u64) -> bool,
    /// Print each problem on stderr (pass 1 only).
    pub print_problems: bool,
}

/// Pass 1: checks every row, prints every problem, and counts.
pub fn pass1(
    prepared: &Prepared,
    options: &CheckOptions,
    pass: &PassOptions<'_>,
) -> anyhow::Result<Tally> {
    let mut checker = RowChecker::new(prepared, options)?;
    if pass.print_problems {
        for warning in checker.warnings() {
            eprintln!("warning: {warning}");
        }
    }
    let mut tally = Tally::default();
    for_each_checked(options, &mut checker, pass.skip_rows, |_, checked, _| {
        tally.rows += 1;
        if let Checked::Invalid { problems, .. } = checked {
            tally.invalid += 1;
            if pass.print_problems {
                for problem in &problems {
                    eprintln!("{problem}");
                }
            }
        }
        Ok(())
    })?;
    tally.missing_options = checker.new_options();
    Ok(tally)
}

/// Streams the file's records with their sequence numbers; a read error stops the run.
pub fn for_each_record(
    prepared: &Prepared,
    options: &CheckOptions,
    mut visit: impl FnMut(u64, Record) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let _ = prepared;
    let source = read::open(&options.file, &options.read)?;
    for (seq, record) in source.enumerate() {
        visit(seq as u64, record?)?;
    }
    Ok(())
}

/// Rows checked together, so that their cells are converted on several cores.
const CHECK_CHUNK: usize = 16_384;

/// Streams the file's rows through `checker` in chunks (cells converted in parallel, rows
/// planned in file order) and hands each verdict, in file order, to `visit` with the row's
/// sequence number. Rows `skip` names are left out unchecked. A read error stops the run
/// once the rows before it were visited.
pub fn for_each_checked(
    options: &CheckOptions,
    checker: &mut RowChecker,
    skip: &dyn Fn(u64) -> bool,
    mut visit: impl FnMut(u64, Checked, Record) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut records = read::open(&options.file, &options.read)?.enumerate();
    let mut exhausted = false;
    while !exhausted {
        let (mut seqs, mut batch) = (Vec::new(), Vec::with_capacity(CHECK_CHUNK));
        let mut failure = None;
        while batch.len() < CHECK_CHUNK {
            match records.next() {
                None => {
                    exhausted = true;
                    break;
                }
                Some((_, Err(err))) => {
                    failure = Some(err);
                    break;
                }
                Some((seq, Ok(record))) if !skip(record.row) => {
                    seqs.push(seq as u64);
                    batch.push(record);
                }
                Some(_) => {}
            }
        }
        for (seq, (checked, record)) in seqs.into_iter().zip(checker.check_chunk(batch)) {
            visit(seq, checked, record)?;
        }
        if let Some(err) = failure {
            return Err(err.into());
        }
    }
    Ok(())
}

/// How a dry run presents itself.
pub struct DryRun {
    pub show_mapping: bool,
    /// `validate` or `import --dry-run`, for messages.
    pub verb: &'static str,
}

/// `validate` and `import --dry-run`: the report a real import would write, without writing.
pub async fn dry_run(client: &Client, options: &CheckOptions, how: DryRun) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let prepared = prepare(client, options).await?;
    if how.show_mapping {
        eprint!("{}", prepared.mapping.render());
    }
    let never = |_: u64| false;
    let pass = PassOptions {
        skip_rows: &never,
        print_problems: true,
    };
    let tally = pass1(&prepared, options, &pass)?;
    let mut writer = ReportWriter::create(report_options(&prepared, options))?;
    let mut checker = RowChecker::new(&prepared, options)?;
    for_each_checked(options, &mut checker, &never, |seq, checked, record| {
        let row = record.row;
        let outcome = dry_outcome(checked, row);
        let cells = if outcome.status.is_failure() {
            record.values
        } else {
            Vec::new()
        };
        writer.record(Finished {
            seq,
            outcome,
            cells,
        })?;
        Ok(())
    })?;
    let files = writer.finish()?;
    let mut summary = Summary {
        input: options.file.display().to_string(),
        table: prepared.table.table.clone(),
        dry_run: true,
        rows: files.counts.total(),
        counts: files.counts,
        report: Some(files.report),
        failures: files.failures,
        ..Summary::default()
    };
    summary.set_elapsed(started.elapsed());
    let exit = Summary::exit_for(&summary.counts, false);
    summary.exit_code = exit.code();
    eprint!("{}", summary.render());
    if let Some(path) = &options.summary_json {
        summary.write_json(path)?;
    }
    tracing::debug!("{} checked {} rows", how.verb, tally.rows);
    Ok(exit)
}

/// The report options of a run.
pub fn report_options(prepared: &Prepared, options: &CheckOptions) -> ReportOptions {
    ReportOptions {
        report: options.report.clone(),
        format: options.report_format,
        failures: options.failures.clone(),
        headers: prepared.headers.clone(),
    }
}

/// The report row of a dry run.
fn dry_outcome(checked: Checked, row: u64) -> RowOutcome {
    use crate::report::Action;
    match checked {
        Checked::Invalid { key, problems } => RowOutcome {
            message: problems_message(&problems),
            ..RowOutcome::new(row, Status::Invalid, key)
        },
        Checked::Create { key, values, .. } => RowOutcome {
            action: Action::Create,
            changed: values.iter().map(|(a, _)| a.name.clone()).collect(),
            ..RowOutcome::new(row, Status::WouldCreate, key)
        },
        Checked::Update {
            key,
            id,
            values,
            link_company,
            ..
        } => {
            let mut changed: Vec<String> = values.iter().map(|(a, _)| a.name.clone()).collect();
            if link_company.is_some() {
                changed.push("Company".into());
            }
            RowOutcome {
                id: Some(id),
                action: Action::Update,
                changed,
                ..RowOutcome::new(row, Status::WouldUpdate, key)
            }
        }
        Checked::Unchanged { key, id } => RowOutcome {
            id: Some(id),
            ..RowOutcome::new(row, Status::Unchanged, key)
        },
    }
}

/// All of a row's problems in one report message.
pub fn problems_message(problems: &[RowProblem]) -> String {
    problems
        .iter()
        .map(RowProblem::describe)
        .collect::<Vec<_>>()
        .join("; ")
}
