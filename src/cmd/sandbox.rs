//! `crm-bulk sandbox` (to be written).

use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct SandboxArgs {}

pub fn run(_args: SandboxArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
