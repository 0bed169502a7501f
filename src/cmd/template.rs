//! `crm-bulk template TABLE [--out FILE]`: writes a CSV whose only row is the header of the
//! table's importable attributes, by name, in form order, ready to fill in and import.
//! Attributes the API cannot write (read-only, `usr`, unknown types) are left out.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use crate::cli::ConnectArgs;
use crate::exit::Exit;
use crate::schema::TableSchema;

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  crm-bulk template companies --sandbox --out companies.csv
  CRM_URL=https://jira.example.com CRM_USER=admin CRM_API_KEY=... CRM_TOKEN=... \\
      crm-bulk template contacts > contacts.csv")]
pub struct TemplateArgs {
    /// The table: companies, contacts, products, transactions, budget, or a custom
    /// directory's table name.
    pub table: String,
    /// Write the template to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub fn run(args: TemplateArgs) -> anyhow::Result<Exit> {
    let schema = super::fields::fetch_schema(&args.connect, &args.table)?;
    let table = schema.tables.first().context("the schema holds no table")?;
    let csv = template(table)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &csv).with_context(|| format!("writing {}", path.display()))?;
            tracing::info!(
                "wrote a template of {} columns to {}",
                headers(table).len(),
                path.display()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&csv)?;
            out.flush()?;
        }
    }
    Ok(Exit::Success)
}

/// The header names: each importable attribute's name, or its code when another attribute
/// of the table has the same name (so every header maps back to exactly one attribute).
pub fn headers(table: &TableSchema) -> Vec<String> {
    let importable: Vec<_> = table
        .attributes
        .iter()
        .filter(|a| a.is_importable())
        .collect();
    importable
        .iter()
        .map(|attr| {
            let same_name = table
                .attributes
                .iter()
                .filter(|a| a.name.eq_ignore_ascii_case(&attr.name))
                .count();
            if same_name > 1 {
                attr.code.clone()
            } else {
                attr.name.clone()
            }
        })
        .collect()
}

/// The CSV text of the template.
pub fn template(table: &TableSchema) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(headers(table))?;
    writer.into_inner().context("writing the CSV header")
}
