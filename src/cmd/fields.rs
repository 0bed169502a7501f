//! `crm-bulk fields TABLE [--json]`: shows a table's attributes as the client reads them from
//! the instance (fieldsList joined with getNomDetails): name, code, type, required, unique,
//! read-only and options. It only reads; rendering is here, fetching is the client's.

use std::io::Write;

use anyhow::Context;
use clap::Args;

use crate::cli::ConnectArgs;
use crate::exit::Exit;
use crate::schema::{Attribute, Schema, TableName, TableSchema};

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  crm-bulk fields companies --sandbox
  CRM_URL=https://jira.example.com CRM_USER=admin CRM_API_KEY=... CRM_TOKEN=... \\
      crm-bulk fields contacts --json")]
pub struct FieldsArgs {
    /// The table: companies, contacts, products, transactions, budget, or a custom
    /// directory's table name.
    pub table: String,
    /// Print the table's schema as JSON (the shape `schema pull` saves) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn run(args: FieldsArgs) -> anyhow::Result<Exit> {
    let schema = fetch_schema(&args.connect, &args.table)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", schema.to_json())?;
    } else {
        let table = schema.tables.first().context("the schema holds no table")?;
        out.write_all(render(&schema, table).as_bytes())?;
    }
    out.flush()?;
    Ok(Exit::Success)
}

/// Connects as the options say and reads one table's schema (with its dictionaries).
pub fn fetch_schema(connect: &ConnectArgs, table: &str) -> anyhow::Result<Schema> {
    let connection = crate::client::connect(connect)?;
    let runtime = super::small_runtime()?;
    let name = TableName::resolve(table);
    let schema = runtime
        .block_on(connection.client.schema(&[name.as_str()]))
        .with_context(|| {
            format!(
                "reading the attributes of {} from {}",
                TableName::friendly(&name),
                connection.target
            )
        })?;
    drop(runtime);
    drop(connection);
    Ok(schema)
}

/// The readable table: one line per attribute in form order.
pub fn render(schema: &Schema, table: &TableSchema) -> String {
    let header = [
        "NAME",
        "CODE",
        "TYPE",
        "REQUIRED",
        "UNIQUE",
        "READ-ONLY",
        "OPTIONS",
    ]
    .map(String::from);
    let mut rows = vec![header.to_vec()];
    for attr in &table.attributes {
        rows.push(vec![
            attr.name.clone(),
            attr.code.clone(),
            kind(attr),
            yes(attr.required),
            yes(attr.unique),
            yes(attr.read_only || attr.kind.is_unsupported()),
            options(schema, attr),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = format!("{} ({}):\n", TableName::friendly(&table.table), table.table);
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}", w = *w))
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text
}

fn kind(attr: &Attribute) -> String {
    let mut kind = attr.kind.describe().to_string();
    if attr.is_name {
        kind.push_str(" (name)");
    }
    kind
}

fn yes(flag: bool) -> String {
    if flag { "yes" } else { "" }.to_string()
}

fn options(schema: &Schema, attr: &Attribute) -> String {
    let values = attr.options_in(schema);
    let list = values
        .iter()
        .map(|o| format!("{}={}", o.id, o.label))
        .collect::<Vec<_>>()
        .join(", ");
    match &attr.dictionary {
        Some(dictionary) if list.is_empty() => format!("dictionary {dictionary} (empty)"),
        Some(dictionary) => format!("dictionary {dictionary}: {list}"),
        None => list,
    }
}
