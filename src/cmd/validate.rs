//! `crm-bulk validate` (to be written).

use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ValidateArgs {}

pub fn run(_args: ValidateArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
