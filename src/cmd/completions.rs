//! `crm-bulk completions SHELL` and `crm-bulk man`: both generated from the clap
//! definitions, so help, completions and man page never disagree.

use clap::{Args, CommandFactory};

use crate::cli::Cli;
use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to print completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "crm-bulk", &mut std::io::stdout());
    Ok(Exit::Success)
}

pub fn man() -> anyhow::Result<Exit> {
    let page = clap_mangen::Man::new(Cli::command());
    page.render(&mut std::io::stdout())?;
    Ok(Exit::Success)
}
