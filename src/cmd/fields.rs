//! `crm-bulk fields` (to be written).

use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct FieldsArgs {}

pub fn run(_args: FieldsArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not implemented yet")
}
