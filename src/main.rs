use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = crm_bulk::cli::Cli::parse();
    let exit = crm_bulk::cmd::run(cli);
    ExitCode::from(exit.code() as u8)
}
