//! The job file of `crm-bulk run`: a TOML file with a `[connection]`, a `reports_dir` and
//! ordered `[[step]]` tables, each an `import` or an `export` with that command's options
//! under the names of its flags.
//!
//! This module owns reading and checking the file and turning each step into the argument
//! vector of the real command, with relative paths resolved against the job file's
//! directory and report files named `<job>-<UTC timestamp>-<step>.*` in the reports
//! directory. It never parses those arguments (the clap definitions do, in `cmd::run`), never
//! runs anything, and never holds a secret: a job names where secrets come from
//! (`api_key_env`, `api_key_file`, ...), and a job holding a secret itself is refused.

pub mod lock;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use toml::Value;

/// What can be wrong with a job file. Messages name the file and, for a step, its number and
/// name; they never quote a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("cannot read the job file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid job file: {message}")]
    Syntax { path: String, message: String },
    #[error(
        "{path}: {place} holds a secret itself (`{key}`); a job file must never contain one. \
         Name where it comes from instead: `{base}_env = \"VARIABLE\"` (an environment \
         variable) or `{base}_file = \"path\"` (a file readable only by the job's user)"
    )]
    LiteralSecret {
        path: String,
        place: String,
        key: String,
        base: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Keys whose value would be a secret itself, and the base name of their `_env`/`_file` form.
const LITERAL_SECRETS: &[(&str, &str)] = &[
    ("api_key", "api_key"),
    ("api-key", "api_key"),
    ("apikey", "api_key"),
    ("token", "token"),
    ("password", "password"),
];

/// `[connection]` keys passed through as connection flags; path-valued ones are resolved.
const CONNECTION_FLAGS: &[&str] = &[
    "url",
    "user",
    "api_key_file",
    "token_file",
    "password_file",
    "sandbox_db",
    "ca_cert",
    "insecure",
    "rate",
    "max_retries",
    "timeout",
    "connect_timeout",
];

/// Options (flag names with `_`) whose values are paths, resolved against the job directory.
const PATH_OPTIONS: &[&str] = &[
    "api_key_file",
    "token_file",
    "password_file",
    "sandbox_db",
    "ca_cert",
    "map",
    "report",
    "failures",
    "summary_json",
    "out",
];

/// A checked job file.
#[derive(Debug, Clone)]
pub struct Job {
    pub path: PathBuf,
    /// The file stem, used in report file names.
    pub name: String,
    /// Where report, failures, summary and export files go (created when the job runs).
    pub reports_dir: PathBuf,
    pub connection: Connection,
    pub steps: Vec<Step>,
}

/// The connection every step uses.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// Connection flags appended to every step's arguments (never a secret).
    pub args: Vec<OsString>,
    /// Variables to set from others before any step runs: (`CRM_API_KEY`, `PROD_KEY`).
    pub env: Vec<(&'static str, String)>,
    pub sandbox: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Import,
    Export,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Import => "import",
            StepKind::Export => "export",
        }
    }
}

/// One step as written: its kind, its file or table, and its options.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based position in the job.
    pub number: usize,
    /// The `name` key, else the input file's stem or the exported table.
    pub name: String,
    pub kind: StepKind,
    /// The file to import (resolved) or the table to export.
    pub target: String,
    /// The other keys, in file order.
    pub options: Vec<(String, Value)>,
}

/// The files one step writes, as given to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepFiles {
    pub report: Option<PathBuf>,
    pub failures: Option<PathBuf>,
    pub summary_json: Option<PathBuf>,
    pub out: Option<PathBuf>,
}

/// A step ready for the command line parser.
#[derive(Debug, Clone)]
pub struct StepCall {
    /// `crm-bulk import FILE --table ...`, program name first.
    pub argv: Vec<OsString>,
    pub files: StepFiles,
}

impl Job {
    /// Reads and checks a job file.
    pub fn load(path: &Path) -> Result<Job, JobError> {
        let text = std::fs::read_to_string(path).map_err(|source| JobError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Job::parse(path, &text)
    }

    /// Checks a job file's text; `path` locates relative paths and names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Job, JobError> {
        let shown = path.display().to_string();
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| JobError::Syntax {
                path: shown.clone(),
                message: e.message().to_string(),
            })?;
        // A job in the current directory has an empty parent: paths stay as written.
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let invalid = |message: String| JobError::Invalid {
            path: shown.clone(),
            message,
        };
        for key in table.keys() {
            if !matches!(key.as_str(), "connection" | "reports_dir" | "step") {
                refuse_secret(&shown, "the job file", key)?;
                return Err(invalid(format!(
                    "unknown key `{key}` (a job has [connection], reports_dir and [[step]] tables)"
                )));
            }
        }
        let connection = match table.get("connection") {
            None => Connection::default(),
            Some(Value::Table(t)) => parse_connection(&shown, &dir, t)?,
            Some(_) => return Err(invalid("[connection] must be a table".into())),
        };
        let reports_dir = match table.get("reports_dir") {
            None => dir.join("reports"),
            Some(Value::String(s)) => dir.join(s),
            Some(_) => return Err(invalid("reports_dir must be a string (a directory)".into())),
        };
        let steps = match table.get("step") {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| parse_step(&shown, &dir, i + 1, item))
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(invalid("`step` must be [[step]] tables".into())),
            None => Vec::new(),
        };
        if steps.is_empty() {
            return Err(invalid("the job has no [[step]]".into()));
        }
        for (i, step) in steps.iter().enumerate() {
            if let Some(other) = steps[..i].iter().find(|s| s.name == step.name) {
                return Err(invalid(format!(
                    "steps {} and {} are both named `{}`; give one a `name = \"...\"` (it names their report files)",
                    other.number, step.number, step.name
                )));
            }
        }
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "job".into());
        Ok(Job {
            path: path.to_path_buf(),
            name: sanitize(&name),
            reports_dir,
            connection,
            steps,
        })
    }

    /// The prefix of this run's file names: `<reports_dir>/<job>-<timestamp>`.
    pub fn run_prefix(&self, timestamp: &str) -> PathBuf {
        self.reports_dir.join(format!("{}-{timestamp}", self.name))
    }
}

impl Step {
    /// The step's argument vector for this run. `timestamp` names its files; `dry_run`
    /// adds `--dry-run` to an import.
    pub fn call(&self, job: &Job, timestamp: &str, dry_run: bool) -> StepCall {
        let prefix = job.run_prefix(timestamp);
        let file = |suffix: &str| {
            let mut name = prefix.clone().into_os_string();
            name.push(format!("-{}.{suffix}", self.name));
            PathBuf::from(name)
        };
        let mut argv: Vec<OsString> = vec!["crm-bulk".into(), self.kind.as_str().into()];
        argv.push(self.target.clone().into());
        let mut files = StepFiles::default();
        for (key, value) in &self.options {
            push_option(&mut argv, key, value);
            if let Value::String(s) = value {
                let path = Some(PathBuf::from(s));
                match key.as_str() {
                    "report" => files.report = path,
                    "failures" => files.failures = path,
                    "summary_json" => files.summary_json = path,
                    "out" => files.out = path,
                    _ => {}
                }
            }
        }
        match self.kind {
            StepKind::Import => {
                let json = self.option_str("report_format") == Some("json");
                fill(&mut argv, &mut files.report, "report", || {
                    file(if json { "report.json" } else { "report.csv" })
                });
                fill(&mut argv, &mut files.failures, "failures", || {
                    file("failures.csv")
                });
                fill(&mut argv, &mut files.summary_json, "summary_json", || {
                    file("summary.json")
                });
                if dry_run {
                    argv.push("--dry-run".into());
                }
            }
            StepKind::Export => {
                let ext = self.option_str("format").unwrap_or("csv").to_string();
                fill(&mut argv, &mut files.out, "out", || file(&ext));
            }
        }
        argv.extend(job.connection.args.iter().cloned());
        StepCall { argv, files }
    }

    fn option_str(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_str())
    }
}

/// Adds `--flag PATH` for a file the step did not name itself.
fn fill(
    argv: &mut Vec<OsString>,
    slot: &mut Option<PathBuf>,
    key: &str,
    make: impl FnOnce() -> PathBuf,
) {
    if slot.is_none() {
        let path = make();
        argv.push(flag(key));
        argv.push(path.clone().into_os_string());
        *slot = Some(path);
    }
}

fn flag(key: &str) -> OsString {
    format!("--{}", key.replace('_', "-")).into()
}

/// One TOML option as flags: `key = "v"` → `--key v`, `key = true` → `--key`, `false` →
/// nothing, arrays repeat the flag.
fn push_option(argv: &mut Vec<OsString>, key: &str, value: &Value) {
    match value {
        Value::Boolean(true) => argv.push(flag(key)),
        Value::Boolean(false) => {}
        Value::Array(items) => {
            for item in items {
                push_option(argv, key, item);
            }
        }
        Value::String(s) => {
            argv.push(flag(key));
            argv.push(s.into());
        }
        other => {
            argv.push(flag(key));
            argv.push(other.to_string().into());
        }
    }
}

fn refuse_secret(path: &str, place: &str, key: &str) -> Result<(), JobError> {
    let lower = key.to_ascii_lowercase();
    match LITERAL_SECRETS.iter().find(|(k, _)| *k == lower) {
        Some((_, base)) => Err(JobError::LiteralSecret {
            path: path.to_string(),
            place: place.to_string(),
            key: key.to_string(),
            base: base.to_string(),
        }),
        None => Ok(()),
    }
}

fn parse_connection(path: &str, dir: &Path, table: &toml::Table) -> Result<Connection, JobError> {
    let invalid = |message: String| JobError::Invalid {
        path: path.to_string(),
        message: format!("[connection]: {message}"),
    };
    let mut connection = Connection::default();
    for (key, value) in table {
        let key = key.replace('-', "_");
        refuse_secret(path, "[connection]", &key)?;
        match key.as_str() {
            "api_key_env" | "token_env" => {
                let Some(var) = value.as_str().filter(|v| !v.trim().is_empty()) else {
                    return Err(invalid(format!(
                        "`{key}` must name an environment variable"
                    )));
                };
                let target = if key == "api_key_env" {
                    "CRM_API_KEY"
                } else {
                    "CRM_TOKEN"
                };
                connection.env.push((target, var.trim().to_string()));
            }
            "sandbox" => match value {
                Value::Boolean(on) => connection.sandbox = *on,
                _ => return Err(invalid("`sandbox` must be true or false".into())),
            },
            known if CONNECTION_FLAGS.contains(&known) => {
                let value = resolve(dir, known, value).ok_or_else(|| {
                    invalid(format!("`{known}` must be a string, number or boolean"))
                })?;
                push_option(&mut connection.args, known, &value);
            }
            other => {
                return Err(invalid(format!(
                "unknown key `{other}`; known: url, user, api_key_env, api_key_file, token_env, \
                     token_file, password_file, sandbox, sandbox_db, ca_cert, insecure, rate, \
                     max_retries, timeout, connect_timeout"
            )))
            }
        }
    }
    if connection.sandbox {
        connection.args.insert(0, "--sandbox".into());
        if !table.contains_key("sandbox_db") {
            connection.args.push("--sandbox-db".into());
            connection
                .args
                .push(dir.join("crm-sandbox.db").into_os_string());
        }
    }
    Ok(connection)
}

fn parse_step(path: &str, dir: &Path, number: usize, item: &Value) -> Result<Step, JobError> {
    let invalid = |message: String| JobError::Invalid {
        path: path.to_string(),
        message: format!("step {number}: {message}"),
    };
    let Value::Table(table) = item else {
        return Err(invalid("must be a [[step]] table".into()));
    };
    let mut kind = None;
    let mut name = None;
    let mut options = Vec::new();
    for (key, value) in table {
        let key = key.replace('-', "_");
        refuse_secret(path, &format!("step {number}"), &key)?;
        match key.as_str() {
            "import" | "export" => {
                let Some(target) = value.as_str().filter(|v| !v.trim().is_empty()) else {
                    return Err(invalid(format!("`{key}` must be a file name or table")));
                };
                if kind.is_some() {
                    return Err(invalid(
                        "has both `import` and `export`; use two steps".into(),
                    ));
                }
                let (k, target) = if key == "import" {
                    (StepKind::Import, dir.join(target).display().to_string())
                } else {
                    (StepKind::Export, target.trim().to_string())
                };
                kind = Some((k, target));
            }
            "name" => match value.as_str() {
                Some(n) if !sanitize(n).is_empty() => name = Some(sanitize(n)),
                _ => return Err(invalid("`name` must be a non-empty string".into())),
            },
            "dry_run" => {
                return Err(invalid(
                    "`dry_run` is for the whole job: crm-bulk run JOB.toml --dry-run".into(),
                ))
            }
            _ => {
                let value = resolve(dir, &key, value).ok_or_else(|| {
                    invalid(format!(
                        "`{key}` must be a string, number, boolean or array"
                    ))
                })?;
                options.push((key, value));
            }
        }
    }
    let Some((kind, target)) = kind else {
        return Err(invalid(
            "needs `import = \"file.csv\"` or `export = \"table\"`".into(),
        ));
    };
    let name = name.unwrap_or_else(|| match kind {
        StepKind::Import => sanitize(
            &Path::new(&target)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
        StepKind::Export => sanitize(&target),
    });
    Ok(Step {
        number,
        name: if name.is_empty() {
            format!("step{number}")
        } else {
            name
        },
        kind,
        target,
        options,
    })
}

/// A value with a relative path resolved against the job directory; `None` for a table or
/// date value, which no flag takes.
fn resolve(dir: &Path, key: &str, value: &Value) -> Option<Value> {
    match value {
        Value::String(s) if PATH_OPTIONS.contains(&key) && s != "-" => {
            Some(Value::String(dir.join(s).display().to_string()))
        }
        Value::Table(_) | Value::Datetime(_) => None,
        Value::Array(items) => items
            .iter()
            .map(|v| resolve(dir, key, v))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        other => Some(other.clone()),
    }
}

/// A name safe inside a file name: letters, digits, `-` and `_`.
fn sanitize(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Job, JobError> {
        Job::parse(Path::new("/jobs/nightly.toml"), text)
    }

    fn argv(call: &StepCall) -> Vec<String> {
        call.argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn steps_become_argument_vectors_with_resolved_paths_and_named_reports() {
        let job = parse(
            r#"
reports_dir = "out"
[connection]
url = "https://jira.example.com"
user = "loader"
api_key_env = "PROD_KEY"
token_file = "secrets/token"

[[step]]
import = "erp.csv"
table = "companies"
map = "erp.toml"
mode = "upsert"
key = "ERP ID"
skip_invalid = true
ignore_unknown = false

[[step]]
export = "companies"
columns = ["Name", "ERP ID"]
"#,
        )
        .unwrap();
        assert_eq!(
            job.connection.env,
            vec![("CRM_API_KEY", "PROD_KEY".to_string())]
        );
        let import = argv(&job.steps[0].call(&job, "T", true));
        let joined = import.join(" ");
        assert!(
            joined.starts_with("crm-bulk import /jobs/erp.csv "),
            "{joined}"
        );
        assert!(joined.contains("--map /jobs/erp.toml"), "{joined}");
        assert!(
            joined.contains("--key ERP ID") && joined.contains("--skip-invalid"),
            "{joined}"
        );
        assert!(!joined.contains("ignore-unknown"), "{joined}");
        assert!(
            joined.contains("--report /jobs/out/nightly-T-erp.report.csv"),
            "{joined}"
        );
        assert!(
            joined.contains("--summary-json /jobs/out/nightly-T-erp.summary.json"),
            "{joined}"
        );
        assert!(joined.contains("--dry-run"), "{joined}");
        assert!(
            joined.contains("--token-file /jobs/secrets/token"),
            "{joined}"
        );
        assert!(
            joined.contains("--url https://jira.example.com"),
            "{joined}"
        );
        let export = argv(&job.steps[1].call(&job, "T", false)).join(" ");
        assert!(
            export.contains("--columns Name --columns ERP ID"),
            "{export}"
        );
        assert!(
            export.contains("--out /jobs/out/nightly-T-companies.csv"),
            "{export}"
        );
    }

    #[test]
    fn a_literal_secret_is_refused_without_echoing_it() {
        for text in [
            "[connection]\napi_key = \"s3cr3t-value\"\n[[step]]\nexport = \"companies\"",
            "[connection]\ntoken = \"s3cr3t-value\"\n[[step]]\nexport = \"companies\"",
            "[[step]]\nexport = \"companies\"\npassword = \"s3cr3t-value\"",
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(
                matches!(parse(text), Err(JobError::LiteralSecret { .. })),
                "{err}"
            );
            assert!(!err.contains("s3cr3t"), "{err}");
            assert!(err.contains("_env = \"VARIABLE\""), "{err}");
        }
    }

    #[test]
    fn mistakes_are_named() {
        let no_kind = parse("[[step]]\ntable = \"companies\"")
            .unwrap_err()
            .to_string();
        assert!(no_kind.contains("step 1: needs `import"), "{no_kind}");
        let twins = parse("[[step]]\nexport = \"companies\"\n[[step]]\nexport = \"companies\"")
            .unwrap_err()
            .to_string();
        assert!(
            twins.contains("steps 1 and 2 are both named `companies`"),
            "{twins}"
        );
        let unknown = parse("[connection]\nhost = \"x\"\n[[step]]\nexport = \"companies\"")
            .unwrap_err()
            .to_string();
        assert!(unknown.contains("unknown key `host`"), "{unknown}");
        assert!(parse("reports_dir = \"r\"").is_err());
    }

    #[test]
    fn a_sandbox_job_gets_its_database_beside_the_job() {
        let job = parse("[connection]\nsandbox = true\n[[step]]\nexport = \"products\"").unwrap();
        let args: Vec<_> = job
            .connection
            .args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["--sandbox", "--sandbox-db", "/jobs/crm-sandbox.db"]);
    }
}
