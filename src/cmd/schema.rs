//! `crm-bulk schema pull --out schema.json` saves a live instance's schema (its tables,
//! attributes, codes, options, dictionaries and date format) as JSON, and `schema show FILE`
//! prints a saved one. A pulled file is what `crm-bulk sandbox --schema FILE` serves, so a
//! migration can be rehearsed locally against the production schema.
//!
//! Fetching is the client's work and the model is [`crate::schema`]'s; this module chooses
//! the tables, writes the file atomically (a failed pull never leaves half a file or clobbers
//! the last good one) and renders it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::cli::ConnectArgs;
use crate::exit::Exit;
use crate::schema::{Schema, TableName};

// Parsed once per process: boxing the larger variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Save a live instance's schema as JSON (for `sandbox --schema` rehearsals).
    #[command(after_help = "\
Examples:
  crm-bulk schema pull --out prod-schema.json
  crm-bulk schema pull --out prod-schema.json --table DEALS --table SUPPLIERS
  crm-bulk sandbox --schema prod-schema.json --db rehearsal.db")]
    Pull(PullArgs),
    /// Print a saved schema file: every table's attributes, as `fields` shows them.
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// The file to write (replaced atomically).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// A custom directory's table name to include, besides the standard tables (repeatable).
    #[arg(long = "table", value_name = "TABLE")]
    pub tables: Vec<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A schema file written by `schema pull`.
    pub file: PathBuf,
}

/// The tables every instance has: companies and contacts must be readable; the others are
/// saved when the instance answers for them.
const REQUIRED: &[&str] = &["CLIENTS", "CONTACTS"];
const OPTIONAL: &[&str] = &["PRODUCTS", "TRANSACTIONS", "BUDGET"];

pub fn run(command: SchemaCommand) -> anyhow::Result<Exit> {
    match command {
        SchemaCommand::Pull(args) => pull(args),
        SchemaCommand::Show(args) => show(&args.file),
    }
}

fn pull(args: PullArgs) -> anyhow::Result<Exit> {
    let connection = crate::client::connect(&args.connect)?;
    let runtime = super::small_runtime()?;
    let extras: Vec<String> = args.tables.iter().map(|t| TableName::resolve(t)).collect();
    let mut schema = Schema {
        date_format: String::new(),
        tables: Vec::new(),
        dictionaries: Vec::new(),
    };
    let wanted = REQUIRED
        .iter()
        .chain(OPTIONAL)
        .map(|t| t.to_string())
        .chain(extras.clone());
    for table in wanted {
        if schema.table(&table).is_some() {
            continue;
        }
        let optional = OPTIONAL.contains(&table.as_str());
        let fetched = match runtime.block_on(connection.client.schema(&[table.as_str()])) {
            Ok(fetched) => fetched,
            Err(err) if optional && !err.is_fatal() => {
                tracing::warn!("{}: not saved ({err})", TableName::friendly(&table));
                continue;
            }
            Err(err) => {
                return Err(anyhow::Error::new(err).context(format!(
                    "reading the attributes of {} from {}",
                    TableName::friendly(&table),
                    connection.target
                )))
            }
        };
        merge(&mut schema, fetched);
    }
    drop(runtime);
    write_atomically(&args.out, &schema.to_json())?;
    let attributes: usize = schema.tables.iter().map(|t| t.attributes.len()).sum();
    eprintln!(
        "saved the schema of {} ({} tables, {attributes} attributes, {} dictionaries, date format {}) to {}",
        connection.target,
        schema.tables.len(),
        schema.dictionaries.len(),
        schema.date_format,
        args.out.display()
    );
    Ok(Exit::Success)
}

/// Adds one table's schema (and its dictionaries) to the whole.
fn merge(schema: &mut Schema, fetched: Schema) {
    if schema.date_format.is_empty() {
        schema.date_format = fetched.date_format;
    }
    for dictionary in fetched.dictionaries {
        if schema.dictionary(&dictionary.name).is_none() {
            schema.dictionaries.push(dictionary);
        }
    }
    schema.tables.extend(fetched.tables);
}

fn show(path: &Path) -> anyhow::Result<Exit> {
    let schema = load(path)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: date format {}, {} tables, dictionaries: {}",
        path.display(),
        schema.date_format,
        schema.tables.len(),
        schema
            .dictionaries
            .iter()
            .map(|d| format!("{} ({})", d.name, d.values.len()))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    for table in &schema.tables {
        writeln!(out)?;
        out.write_all(super::fields::render(&schema, table).as_bytes())?;
    }
    out.flush()?;
    Ok(Exit::Success)
}

/// Reads a schema file, naming it in any error.
pub fn load(path: &Path) -> anyhow::Result<Schema> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the schema file {}", path.display()))?;
    Schema::from_json(&text)
        .with_context(|| format!("{}: not a crm-bulk schema file", path.display()))
}

/// Writes beside the target and renames into place.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::atomic::write_atomically(path, |out| -> anyhow::Result<()> {
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        Ok(())
    })
    .with_context(|| format!("cannot write {}", path.display()))
}
