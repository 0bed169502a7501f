//! `crm-bulk template` (to be written).

use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct TemplateArgs {}

pub fn run(_args: TemplateArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
