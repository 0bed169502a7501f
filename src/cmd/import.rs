//! `crm-bulk import` (to be written).

use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ImportArgs {}

pub fn run(_args: ImportArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
