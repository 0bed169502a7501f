//! The `crm-bulk` binary: parses the command line, runs it through the library
//! (`crm_bulk::cmd::run`) and exits with the documented code. It must hold no logic of its
//! own, so tests can drive everything in-process.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = crm_bulk::cli::Cli::parse();
    let exit = crm_bulk::cmd::run(cli);
    ExitCode::from(exit.code() as u8)
}
