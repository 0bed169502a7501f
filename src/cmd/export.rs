//! `crm-bulk export` (to be written).

use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ExportArgs {}

pub fn run(_args: ExportArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
