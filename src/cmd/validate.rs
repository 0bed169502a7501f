//! `crm-bulk validate FILE --table T`: the pre-flight of an import, alone. It reads the file,
//! maps its headers, checks every row against the schema and the CRM's current entries, and
//! writes the same report a real import would, with `invalid` or the action each row would
//! get. It never writes to the CRM.
//!
//! This module also owns [`CheckArgs`], the arguments `validate` and `import` share (file,
//! reader, mapping, matching, report); the work itself is in [`crate::preflight`].

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::ConnectArgs;
use crate::exit::Exit;
use crate::map::MapFile;
use crate::preflight::{self, CheckOptions, EmptyPolicy, Mode};
use crate::read::ReadOptions;
use crate::report::{default_report_path, ReportFormat};

/// What `validate` and `import` share: the file, how to read and map it, how rows match
/// entries, and where the report goes.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The spreadsheet: CSV, TSV, JSON, NDJSON, or an Excel/OpenDocument workbook.
    pub file: PathBuf,
    /// The table: companies, contacts, products, budget, or a custom directory's table name.
    #[arg(long, short = 't')]
    pub table: String,

    /// Field delimiter of a CSV file (default: sniffed from `,` `;` tab `|`).
    #[arg(long, value_name = "CHAR", help_heading = "Reading")]
    pub delimiter: Option<char>,
    /// Text encoding of a CSV file: utf-8, utf-16le, utf-16be, windows-1252 (default: detected).
    #[arg(long, value_name = "NAME", help_heading = "Reading")]
    pub encoding: Option<String>,
    /// The worksheet of a workbook (default: the first).
    #[arg(long, value_name = "NAME", help_heading = "Reading")]
    pub sheet: Option<String>,
    /// The file format (default: from the file name's extension).
    #[arg(long, value_name = "FORMAT", help_heading = "Reading")]
    pub format: Option<String>,

    /// A TOML file mapping headers to attributes, listing headers to ignore and constants.
    #[arg(long, value_name = "FILE", help_heading = "Mapping")]
    pub map: Option<PathBuf>,
    /// Skip columns whose header matches no attribute instead of stopping.
    #[arg(long, help_heading = "Mapping")]
    pub ignore_unknown: bool,

    /// insert: create every row (an existing key is an error); update: the key must exist;
    /// upsert: create or update.
    #[arg(long, value_enum, default_value_t = ModeArg::Insert, help_heading = "Matching")]
    pub mode: ModeArg,
    /// The header (or attribute) that matches rows to entries (default: the table's name
    /// attribute). Any unique attribute works, such as an ERP ID.
    #[arg(long, value_name = "HEADER", help_heading = "Matching")]
    pub key: Option<String>,
    /// What an empty cell does to a stored value on update: keep it, or clear it. Note: the
    /// vendor's own importer clears.
    #[arg(long, value_enum, default_value_t = EmptyArg::Keep, help_heading = "Matching")]
    pub empty: EmptyArg,
    /// Add unknown dictionary values (adddictionaryvalue) instead of reporting them.
    #[arg(long, help_heading = "Matching")]
    pub create_missing_options: bool,

    /// The per-row report (default: <input stem>.report.csv beside the input).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub report: Option<PathBuf>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Csv, help_heading = "Output")]
    pub report_format: ReportFormat,
    /// Also write the original rows that were invalid or failed, with an error column, ready
    /// to load again once fixed.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub failures: Option<PathBuf>,
    /// Write the end-of-run summary as JSON (for monitoring).
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub summary_json: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    Insert,
    Update,
    Upsert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmptyArg {
    Keep,
    Clear,
}

impl CheckArgs {
    /// The validated options of the pre-flight.
    pub fn options(&self) -> anyhow::Result<CheckOptions> {
        let map_file = match &self.map {
            Some(path) => Some(MapFile::load(path)?),
            None => None,
        };
        let read = read_options(self)?;
        Ok(CheckOptions {
            file: self.file.clone(),
            table: self.table.clone(),
            read,
            map_file,
            ignore_unknown: self.ignore_unknown,
            mode: match self.mode {
                ModeArg::Insert => Mode::Insert,
                ModeArg::Update => Mode::Update,
                ModeArg::Upsert => Mode::Upsert,
            },
            key: self.key.clone(),
            empty: match self.empty {
                EmptyArg::Keep => EmptyPolicy::Keep,
                EmptyArg::Clear => EmptyPolicy::Clear,
            },
            create_missing_options: self.create_missing_options,
            report: self
                .report
                .clone()
                .unwrap_or_else(|| default_report_path(&self.file, self.report_format)),
            report_format: self.report_format,
            failures: self.failures.clone(),
            summary_json: self.summary_json.clone(),
        })
    }
}

fn read_options(args: &CheckArgs) -> anyhow::Result<ReadOptions> {
    crate::preflight::read_options(
        args.delimiter,
        args.encoding.as_deref(),
        args.sheet.as_deref(),
        args.format.as_deref(),
    )
    .map_err(|message| anyhow::Error::new(super::UsageError(message)))
}

#[derive(Debug, Args)]
#[command(after_long_help = VALIDATE_HELP)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub check: CheckArgs,
    /// Print how each header maps to an attribute before checking the rows.
    #[arg(long)]
    pub show_mapping: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

const VALIDATE_HELP: &str = "\
Examples:
  crm-bulk validate contacts.csv --table contacts --show-mapping
  crm-bulk validate erp.csv --table companies --map erp.toml --key \"ERP ID\" --mode upsert

Every problem is printed as
  contacts.csv: row 17, column \"E-Mail\": \"kelly@\" is not an e-mail address
with row numbers as a spreadsheet shows them (the header is row 1).

Exit codes:
  0    every row is valid
  1    the check could not run (connection, unreadable file, headers that match nothing, ...)
  2    usage error
  3    some rows are invalid (see the report)";

pub fn run(args: ValidateArgs) -> anyhow::Result<Exit> {
    let options = args.check.options()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let connection = crate::client::connect(&args.connect)?;
        let check = preflight::DryRun {
            show_mapping: args.show_mapping,
            verb: "validate",
        };
        preflight::dry_run(&connection.client, &options, check).await
    })
}
