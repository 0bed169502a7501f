//! `crm-bulk run` (to be written).

use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct RunArgs {}

pub fn run(_args: RunArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
