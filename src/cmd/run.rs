//! `crm-bulk run JOB.toml [--dry-run]`: runs a job file's steps in order, in-process.
//!
//! This module owns the order of a run: take the job's lock, check every step against the
//! real clap definitions before anything runs (a typo in step 3 must not leave a half-run
//! job), put secrets named by `*_env` keys where the connection code reads them, run the
//! steps, stop at a step that could not proceed, and report per step (on stderr and as
//! `<job>-<timestamp>.summary.json`). Reading the job file is [`crate::job`]'s work; the steps
//! are the `import` and `export` commands themselves.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Parser};
use serde::Serialize;

use crate::cli::{Cli, Command};
use crate::cmd::UsageError;
use crate::exit::Exit;
use crate::job::lock::JobLock;
use crate::job::{Job, Step, StepFiles};

#[derive(Debug, Args)]
#[command(after_long_help = RUN_HELP)]
pub struct RunArgs {
    /// The job file (TOML): [connection], reports_dir and ordered [[step]] tables.
    pub job: PathBuf,
    /// Check every import and write its report without writing to the CRM; say what each
    /// export would write.
    #[arg(long)]
    pub dry_run: bool,
}

const RUN_HELP: &str = "\
A job file:

  reports_dir = \"reports\"             # relative paths resolve against the job file's directory

  [connection]
  url = \"https://jira.example.com\"
  user = \"crm-loader\"
  api_key_env = \"CRM_API_KEY\"         # or api_key_file = \"/etc/crm-bulk/api-key\"
  token_env = \"CRM_TOKEN\"             # or token_file / password_file
  # sandbox = true                    # the embedded sandbox instead (sandbox_db = \"crm.db\")

  [[step]]
  import = \"erp-export.csv\"           # every import option under its flag's name
  table = \"companies\"
  map = \"erp-mapping.toml\"
  mode = \"upsert\"
  key = \"ERP ID\"

  [[step]]
  export = \"companies\"                # every export option under its flag's name
  format = \"csv\"

Each step's report, failures, summary and export files are named
<reports_dir>/<job>-<UTC timestamp>-<step>.*, and the job's own summary
<job>-<UTC timestamp>.summary.json. Steps run in order; a step that cannot proceed (exit 1)
stops the job. The job exits with its worst step's code. A second run of the same job while
one runs exits 1 (the lock is JOB.toml.lock). A job file holding a secret itself is refused.";

/// How one step ended, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct StepResult {
    /// The step's number in the job, from 1.
    pub number: usize,
    /// The step's name (its `name`, else the input file's stem or the table).
    pub name: String,
    /// `import` or `export`.
    pub kind: &'static str,
    /// `ok`, `rows failed`, `failed`, `interrupted`, `dry run`, `not run`.
    pub result: &'static str,
    /// The step's exit code; `null` for a step that did not run.
    pub exit_code: Option<i32>,
    /// The error that stopped the step, secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The step's own summary JSON (an import's counts), when it wrote one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
    /// Files the step was told to write (they exist only if it got that far).
    pub report: Option<PathBuf>,
    pub failures: Option<PathBuf>,
    pub summary_json: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

/// The job's summary JSON, for monitoring.
#[derive(Debug, Serialize)]
pub struct JobSummary {
    pub job: PathBuf,
    /// The UTC timestamp in this run's file names.
    pub run: String,
    pub dry_run: bool,
    /// The worst step's exit code.
    pub exit_code: i32,
    pub steps: Vec<StepResult>,
}

pub fn run(args: RunArgs) -> anyhow::Result<Exit> {
    let job = Job::load(&args.job).map_err(|e| UsageError(e.to_string()))?;
    let _lock = JobLock::acquire(&job.path)?;
    let timestamp = fresh_timestamp(&job);
    set_secrets(&job)?;
    let planned = plan(&job, &timestamp, args.dry_run)?;
    std::fs::create_dir_all(&job.reports_dir).with_context(|| {
        format!(
            "cannot create the reports directory {}",
            job.reports_dir.display()
        )
    })?;
    tracing::debug!(job = %job.path.display(), run = %timestamp, steps = planned.len(), "job starts");
    let mut results = Vec::new();
    let mut worst = Exit::Success;
    let mut stopped = false;
    for (step, command, files) in planned {
        let mut result = StepResult::new(step, &files);
        if stopped {
            results.push(result);
            continue;
        }
        eprintln!(
            "== step {} ({}): {} {}",
            step.number,
            step.name,
            step.kind.as_str(),
            step.target
        );
        let exit = run_step(command, args.dry_run, &mut result);
        result.summary = result
            .summary_json
            .as_deref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .and_then(|text| serde_json::from_str(&text).ok());
        worst = worst.worst(exit);
        stopped = !matches!(exit, Exit::Success | Exit::RowsFailed);
        results.push(result);
    }
    let summary = JobSummary {
        job: job.path.clone(),
        run: timestamp.clone(),
        dry_run: args.dry_run,
        exit_code: worst.code(),
        steps: results,
    };
    eprint!("{}", render(&summary));
    let path = PathBuf::from(format!(
        "{}.summary.json",
        job.run_prefix(&timestamp).display()
    ));
    write_json(&path, &summary)?;
    Ok(worst)
}

/// The UTC time that names this run's files; a run within the same second as the last one
/// gets a `-2`, `-3`, ... suffix rather than overwriting its files.
fn fresh_timestamp(job: &Job) -> String {
    let base = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let taken = |t: &str| {
        let mut name = job.run_prefix(t).into_os_string();
        name.push(".summary.json");
        Path::new(&name).exists()
    };
    let mut stamp = base.clone();
    let mut n = 1;
    while taken(&stamp) {
        n += 1;
        stamp = format!("{base}-{n}");
    }
    stamp
}

/// Parses every step with the real command line before anything runs.
fn plan<'a>(
    job: &'a Job,
    timestamp: &str,
    dry_run: bool,
) -> anyhow::Result<Vec<(&'a Step, Command, StepFiles)>> {
    job.steps
        .iter()
        .map(|step| {
            let call = step.call(job, timestamp, dry_run);
            let command = parse_step(job, step, call.argv)?;
            Ok((step, command, call.files))
        })
        .collect()
}

fn parse_step(job: &Job, step: &Step, argv: Vec<OsString>) -> anyhow::Result<Command> {
    let cli = Cli::try_parse_from(argv).map_err(|err| {
        let message = err.render().to_string();
        // clap's usage lines and tips speak of flags; the job file speaks of keys.
        let first = message.lines().next().unwrap_or("invalid options").trim();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        UsageError(crate::secret::redact_text(&format!(
            "{}: step {} ({}): {first} (job keys are the {} flags' names, with _ or -)",
            job.path.display(),
            step.number,
            step.name,
            step.kind.as_str()
        )))
    })?;
    Ok(cli.command)
}

/// Copies the secrets named by `api_key_env`/`token_env` into `CRM_API_KEY`/`CRM_TOKEN`, where
/// the connection code reads them: they never become arguments or files.
fn set_secrets(job: &Job) -> anyhow::Result<()> {
    for (target, source) in &job.connection.env {
        match std::env::var(source) {
            Ok(value) if !value.trim().is_empty() => std::env::set_var(target, value),
            _ => {
                return Err(UsageError(format!(
                    "{}: [connection] takes the secret for {target} from the environment variable {source}, which is not set",
                    job.path.display()
                ))
                .into())
            }
        }
    }
    if job.connection.sandbox {
        // The job's connection is the whole truth: an inherited CRM_URL must not point a
        // sandbox job at a real CRM (clap would also refuse --sandbox with a URL).
        std::env::remove_var("CRM_URL");
    }
    Ok(())
}

fn run_step(command: Command, dry_run: bool, result: &mut StepResult) -> Exit {
    let outcome = match command {
        Command::Import(args) => crate::cmd::import::run(args),
        Command::Export(args) if dry_run => {
            let out = result.out.as_deref().unwrap_or(Path::new("-"));
            eprintln!("dry run: would export {} to {}", args.table, out.display());
            result.result = "dry run";
            result.exit_code = Some(0);
            return Exit::Success;
        }
        Command::Export(args) => crate::cmd::export::run(args),
        _ => Err(anyhow::anyhow!("a job step is an import or an export")),
    };
    let exit = match outcome {
        Ok(exit) => exit,
        Err(err) => {
            let mut message = format!("{err}");
            for cause in err.chain().skip(1) {
                message.push_str(&format!(": {cause}"));
            }
            let message = crate::secret::redact_text(&message);
            eprintln!("error: step {} ({}): {message}", result.number, result.name);
            result.error = Some(message);
            match err.downcast_ref::<UsageError>() {
                Some(_) => Exit::Usage,
                None => Exit::Failure,
            }
        }
    };
    result.exit_code = Some(exit.code());
    result.result = match exit {
        Exit::Success if dry_run => "dry run",
        Exit::Success => "ok",
        Exit::RowsFailed => "rows failed",
        Exit::Interrupted => "interrupted",
        Exit::Failure | Exit::Usage => "failed",
    };
    exit
}

impl StepResult {
    fn new(step: &Step, files: &StepFiles) -> StepResult {
        StepResult {
            number: step.number,
            name: step.name.clone(),
            kind: step.kind.as_str(),
            result: "not run",
            exit_code: None,
            error: None,
            summary: None,
            report: files.report.clone(),
            failures: files.failures.clone(),
            summary_json: files.summary_json.clone(),
            out: files.out.clone(),
        }
    }
}

/// The short per-step table printed at the end.
pub fn render(summary: &JobSummary) -> String {
    let width = summary
        .steps
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut text = format!(
        "\njob {} ({}{}): exit {}\n",
        summary.job.display(),
        summary.run,
        if summary.dry_run { ", dry run" } else { "" },
        summary.exit_code
    );
    for step in &summary.steps {
        let code = step
            .exit_code
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        let file = match step.kind {
            "export" => step.out.as_deref(),
            _ => step.report.as_deref(),
        };
        let file = match (step.exit_code, file) {
            (Some(_), Some(path)) if path.exists() => path.display().to_string(),
            _ => String::new(),
        };
        text.push_str(&format!(
            "  {:>2}  {:<width$}  {:<6}  exit {:<3}  {:<11}  {}\n",
            step.number, step.name, step.kind, code, step.result, file
        ));
    }
    text
}

fn write_json(path: &Path, summary: &JobSummary) -> anyhow::Result<()> {
    crate::atomic::write_atomically(path, |out| -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut *out, summary)?;
        out.write_all(b"\n")?;
        Ok(())
    })
    .with_context(|| format!("cannot write {}", path.display()))
}
