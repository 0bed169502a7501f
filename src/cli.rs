//! The command line: clap derive structures only. Each subcommand's own arguments live in
//! its module under `cmd/`; this file holds the top level and the options several commands
//! share (connection, logging). Validation into typed settings happens in the commands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cmd;

#[derive(Debug, Parser)]
#[command(
    name = "crm-bulk",
    version,
    about = "Bulk import and export between spreadsheets and CRM for Jira",
    long_about = "Bulk import and export between spreadsheets and CRM for Jira (Teamlead), \
through its remote API, with a faithful local sandbox of that API for rehearsals.",
    after_long_help = crate::exit::EXIT_CODES_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a local CRM for Jira API server (the sandbox) backed by SQLite.
    Sandbox(cmd::sandbox::SandboxArgs),
    /// Show a table's attributes: names, codes, types, required, unique, options.
    Fields(cmd::fields::FieldsArgs),
    /// Write a CSV template whose header row is a table's importable attributes.
    Template(cmd::template::TemplateArgs),
    /// Check a file against a table's schema and the CRM's entries without writing anything.
    Validate(cmd::validate::ValidateArgs),
    /// Load a spreadsheet into a table: create, update or upsert every row exactly once.
    Import(cmd::import::ImportArgs),
    /// Write a table out to CSV, JSON, NDJSON or Excel, in a form that imports again.
    Export(cmd::export::ExportArgs),
    /// Run a job file: ordered imports and exports for nightly loads.
    Run(cmd::run::RunArgs),
    /// Save or inspect an instance's schema.
    #[command(subcommand)]
    Schema(cmd::schema::SchemaCommand),
    /// Print shell completions.
    Completions(cmd::completions::CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

/// Logging options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Less output: only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More output (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log line format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// How to reach a CRM. Secrets are never arguments: the API key comes from `CRM_API_KEY` or
/// `--api-key-file`, the REST credential from `CRM_TOKEN`, `--token-file` or
/// `--password-file`.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Jira base URL, e.g. https://jira.example.com
    #[arg(long, env = "CRM_URL", help_heading = "Connection")]
    pub url: Option<String>,
    /// Jira user whose CRM rights the calls use.
    #[arg(long, env = "CRM_USER", help_heading = "Connection")]
    pub user: Option<String>,
    /// File holding the CRM API key (else the CRM_API_KEY environment variable).
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub api_key_file: Option<PathBuf>,
    /// File holding a Jira personal access token for the REST endpoints (else CRM_TOKEN).
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub token_file: Option<PathBuf>,
    /// File holding the Jira password, for HTTP Basic auth on the REST endpoints.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Connection",
        conflicts_with = "token_file"
    )]
    pub password_file: Option<PathBuf>,
    /// Start the embedded sandbox in-process and use it instead of a real CRM.
    #[arg(long, help_heading = "Connection", conflicts_with = "url")]
    pub sandbox: bool,
    /// The embedded sandbox's SQLite file (with --sandbox).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "crm-sandbox.db",
        help_heading = "Connection"
    )]
    pub sandbox_db: PathBuf,
    /// Extra CA certificate (PEM) for a Jira behind a private CA.
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub ca_cert: Option<PathBuf>,
    /// Accept any TLS certificate. Dangerous: only for a test instance.
    #[arg(long, help_heading = "Connection")]
    pub insecure: bool,
    /// Requests per second, shared by all workers. The vendor publishes no limit; 10/s is
    /// gentle on a shared Jira and still loads 36,000 rows an hour.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10,
        help_heading = "Connection"
    )]
    pub rate: u32,
    /// Retries of a failed call that is safe to repeat.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 5,
        help_heading = "Connection"
    )]
    pub max_retries: u32,
    /// Timeout of one request, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 30,
        help_heading = "Connection"
    )]
    pub timeout: u64,
    /// Timeout to establish a connection, in seconds.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 10,
        help_heading = "Connection"
    )]
    pub connect_timeout: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
