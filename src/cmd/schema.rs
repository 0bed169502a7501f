//! `crm-bulk schema` (to be written).

use clap::Subcommand;

use crate::exit::Exit;

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Save a live instance's schema as JSON.
    Pull,
}

pub fn run(_command: SchemaCommand) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
