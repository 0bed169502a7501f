//! `crm-bulk export TABLE`: fetches a table through the client and writes it with the
//! [`crate::export`] stage. This module owns the command line, turning it into settings once,
//! the order of calls, Ctrl-C, the progress bar and the end-of-run messages; value handling and
//! file formats live in the stage.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::client::{Client, Entry, TransactionRow};
use crate::cmd::UsageError;
use crate::exit::Exit;
use crate::export::transactions::{CellMap, TransactionRecord};
use crate::export::values::ValueOptions;
use crate::export::{
    self, output, Columns, ColumnsOptions, ExportError, Filter, Format, HeaderStyle, Hooks,
    Normaliser, Order, Summary,
};
use crate::schema::{Schema, TableName, TableSchema};

const EXAMPLES: &str = "\
Examples:
  crm-bulk export companies --out companies.csv
  crm-bulk export contacts --out contacts.xlsx --where \"Company=Acme, Inc.\"
  crm-bulk export products --format ndjson --columns \"Product Name,Price\" --out -

The default columns are the table's importable attributes in form order, headed by name, so
the file imports again unchanged. Dates are written as YYYY-MM-DD, list and dictionary values
as labels, companies and contacts by name. Values the API reads as \"Unsupported\" are left
empty with one warning per attribute.

--where is sent to the CRM's searchEntities when the API can match the value (the first such
filter narrows what is fetched); every filter is then also checked locally, so dates may be
given as YYYY-MM-DD and the result is the same either way. Transactions are always filtered
locally.

A file is written to a temporary file next to it and renamed into place only when complete:
a failed or interrupted export leaves no file, and an existing file untouched.";

#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub struct ExportArgs {
    /// The table: companies, contacts, products, transactions, budget, or a custom
    /// directory's table name.
    pub table: String,
    /// Output file, or - for stdout.
    #[arg(long, short, value_name = "FILE", default_value = "-")]
    pub out: PathBuf,
    /// Output format [default: from the --out file name, else csv].
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Header row: attribute names (what import reads) or codes (stable across renames).
    #[arg(long, value_enum, default_value_t = HeadersArg::Names)]
    pub headers: HeadersArg,
    /// Attributes to write, in this order, by name or code (comma-separated or repeated);
    /// `id` is the entry id. Default: every importable attribute in form order.
    #[arg(long, value_name = "A,B,..", value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Only entries whose attribute has this value (ignoring case); repeat to require several.
    #[arg(long = "where", value_name = "ATTRIBUTE=VALUE")]
    pub filters: Vec<String>,
    /// Write the entry id as the first column. Off by default: import matches by name, and
    /// ids mean nothing to another instance.
    #[arg(long)]
    pub with_id: bool,
    /// Prefix cells starting with = + - or @ with a single quote, so spreadsheet programs do
    /// not run them as formulas. Off by default because it changes the data: "-5" becomes
    /// "'-5", and the quote is imported back as part of the value.
    #[arg(long)]
    pub excel_safe: bool,
    /// Row order: by the name attribute (the same data gives the same file on any
    /// instance), or as the API lists them (by id).
    #[arg(long, value_enum, default_value_t = SortArg::Name)]
    pub sort: SortArg,
    #[command(flatten)]
    pub connect: crate::cli::ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortArg {
    Name,
    Id,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Csv,
    Json,
    Ndjson,
    Xlsx,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HeadersArg {
    Names,
    Codes,
}

/// The validated command line.
#[derive(Debug)]
struct Settings {
    table: String,
    /// `None` for stdout.
    out: Option<PathBuf>,
    format: Format,
    columns: ColumnsOptions,
    filters: Vec<String>,
    excel_safe: bool,
    order: Order,
}

impl Settings {
    fn from_args(args: &ExportArgs) -> Result<Settings, UsageError> {
        let out = (args.out.as_os_str() != "-").then(|| args.out.clone());
        let implied = out.as_deref().and_then(Format::from_path);
        let format = match args.format {
            Some(FormatArg::Csv) => Format::Csv,
            Some(FormatArg::Json) => Format::Json,
            Some(FormatArg::Ndjson) => Format::Ndjson,
            Some(FormatArg::Xlsx) => Format::Xlsx,
            None => implied.unwrap_or(Format::Csv),
        };
        if out.is_none() && format == Format::Xlsx && std::io::stdout().is_terminal() {
            return Err(UsageError(
                "an Excel workbook is binary: give --out FILE.xlsx or redirect stdout".into(),
            ));
        }
        let chosen: Vec<String> = args
            .columns
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        Ok(Settings {
            table: TableName::resolve(&args.table),
            out,
            format,
            columns: ColumnsOptions {
                headers: match args.headers {
                    HeadersArg::Names => HeaderStyle::Names,
                    HeadersArg::Codes => HeaderStyle::Codes,
                },
                chosen: (!chosen.is_empty()).then_some(chosen),
                with_id: args.with_id,
            },
            filters: args.filters.clone(),
            excel_safe: args.excel_safe,
            order: match args.sort {
                SortArg::Name => Order::Name,
                SortArg::Id => Order::Api,
            },
        })
    }
}

pub fn run(args: ExportArgs) -> anyhow::Result<Exit> {
    let settings = Settings::from_args(&args)?;
    // Before the runtime: an embedded sandbox starts its own.
    let connection = crate::client::connect(&args.connect)?;
    let runtime = super::small_runtime()?;
    let client = connection.client.clone();
    runtime.block_on(export(&client, &settings))
}

/// The fetched entries of a table, in the client's types.
enum Fetched {
    Entries(Vec<Entry>),
    Transactions(Vec<TransactionRow>),
}

impl Fetched {
    fn len(&self) -> usize {
        match self {
            Fetched::Entries(e) => e.len(),
            Fetched::Transactions(t) => t.len(),
        }
    }
}

async fn export(client: &Client, settings: &Settings) -> anyhow::Result<Exit> {
    let friendly = TableName::friendly(&settings.table);
    let schema = client
        .schema(&[settings.table.as_str()])
        .await
        .with_context(|| format!("reading the schema of {friendly}"))?;
    let table = schema
        .table(&settings.table)
        .with_context(|| format!("the CRM has no table {}", settings.table))?;
    let columns = Columns::resolve(table, &settings.columns).map_err(usage)?;
    let filters = settings
        .filters
        .iter()
        .map(|f| Filter::parse(table, f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(usage)?;

    let cancel = Arc::new(AtomicBool::new(false));
    let watcher = tokio::spawn(watch_ctrl_c(cancel.clone()));
    let fetched = tokio::select! {
        fetched = fetch(client, table, &filters) => fetched.with_context(|| format!("listing {friendly}"))?,
        _ = tokio::signal::ctrl_c() => return interrupted(),
    };
    let result = write(
        &schema, table, &columns, &filters, &fetched, settings, &cancel,
    );
    watcher.abort();
    match result {
        Ok(summary) => {
            report(&summary, settings, &friendly);
            Ok(Exit::Success)
        }
        Err(ExportError::Interrupted) => interrupted(),
        Err(err) => Err(anyhow::Error::new(err).context(match &settings.out {
            Some(path) => format!("exporting {friendly} to {}", path.display()),
            None => format!("exporting {friendly} to stdout"),
        })),
    }
}

/// The table's entries: transactionslist for transactions; else searchEntities narrowed by
/// the first filter the server can apply; else the whole table.
async fn fetch(
    client: &Client,
    table: &TableSchema,
    filters: &[Filter],
) -> Result<Fetched, crate::client::ApiError> {
    if table.table == "TRANSACTIONS" {
        return Ok(Fetched::Transactions(client.transactions().await?));
    }
    let entries = match filters.iter().find(|f| f.server_side()) {
        Some(filter) => client.find(table, &filter.attribute, &filter.value).await?,
        None => client.list(table).await?,
    };
    Ok(Fetched::Entries(entries))
}

fn write(
    schema: &Schema,
    table: &TableSchema,
    columns: &Columns,
    filters: &[Filter],
    fetched: &Fetched,
    settings: &Settings,
    cancel: &AtomicBool,
) -> Result<Summary, ExportError> {
    let mut normaliser = Normaliser::new(ValueOptions {
        date_format: schema.date_format.clone(),
        excel_safe: settings.excel_safe,
    });
    let bar = progress_bar(fetched.len() as u64);
    let progress = |n: u64| bar.set_position(n);
    let hooks = Hooks {
        progress: &progress,
        cancel,
    };
    let sheet = TableName::friendly(&table.table);
    let body = |out: &mut dyn std::io::Write| {
        let writer = settings.format.writer(out, &sheet);
        match fetched {
            Fetched::Entries(entries) => {
                let mut refs: Vec<&Entry> = entries.iter().collect();
                if settings.order == Order::Name {
                    export::sort_records(&mut refs, table, columns);
                }
                export::write_records(refs, columns, filters, &mut normaliser, writer, &hooks)
            }
            Fetched::Transactions(rows) => {
                let map = CellMap::new(table);
                let records: Vec<TransactionRecord> = rows
                    .iter()
                    .map(|r| TransactionRecord::new(r, &map))
                    .collect();
                export::write_records(&records, columns, filters, &mut normaliser, writer, &hooks)
            }
        }
    };
    let result = match &settings.out {
        Some(path) => output::write_atomically(path, body),
        None => output::write_stdout(body),
    };
    bar.finish_and_clear();
    result
}

/// A bar on a terminal, nothing otherwise (cron logs stay clean).
fn progress_bar(len: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} rows {per_sec} {eta}") {
        bar.set_style(style);
    }
    bar
}

fn report(summary: &Summary, settings: &Settings, friendly: &str) {
    for warning in &summary.warnings {
        tracing::warn!("{warning}");
    }
    let target = match &settings.out {
        Some(path) => path.display().to_string(),
        None => "stdout".into(),
    };
    let filtered = if summary.written == summary.read {
        String::new()
    } else {
        format!(
            " ({} of {} matched the filters)",
            summary.written, summary.read
        )
    };
    tracing::info!(
        "exported {} {friendly} to {target}{filtered}",
        summary.written
    );
}

fn usage(err: ExportError) -> anyhow::Error {
    UsageError(err.to_string()).into()
}

fn interrupted() -> anyhow::Result<Exit> {
    tracing::warn!("interrupted: no file was written");
    Ok(Exit::Interrupted)
}

async fn watch_ctrl_c(cancel: Arc<AtomicBool>) {
    if tokio::signal::ctrl_c().await.is_ok() {
        cancel.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: ExportArgs,
    }

    fn settings(argv: &[&str]) -> Settings {
        let wrap = Wrap::try_parse_from(std::iter::once("export").chain(argv.iter().copied()))
            .expect("parses");
        Settings::from_args(&wrap.args).expect("valid")
    }

    #[test]
    fn format_comes_from_the_flag_then_the_file_name_then_csv() {
        assert_eq!(
            settings(&["companies", "--out", "a.xlsx"]).format,
            Format::Xlsx
        );
        assert_eq!(
            settings(&["companies", "--out", "a.JSONL"]).format,
            Format::Ndjson
        );
        assert_eq!(
            settings(&["companies", "--out", "a.txt"]).format,
            Format::Csv
        );
        assert_eq!(
            settings(&["companies", "--out", "a.csv", "--format", "json"]).format,
            Format::Json
        );
        let s = settings(&["companies", "--out", "-", "--format", "ndjson"]);
        assert_eq!((s.out, s.format), (None, Format::Ndjson));
    }

    #[test]
    fn columns_split_on_commas_and_repeat() {
        let s = settings(&[
            "contacts",
            "--columns",
            "Full Name, E-Mail",
            "--columns",
            "id",
        ]);
        assert_eq!(s.table, "CONTACTS");
        assert_eq!(
            s.columns.chosen,
            Some(vec!["Full Name".to_string(), "E-Mail".into(), "id".into()])
        );
        assert_eq!(settings(&["contacts"]).columns.chosen, None);
    }
}
