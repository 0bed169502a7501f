//! One module per subcommand, each with one `run` entry point that returns an [`Exit`].
//! Commands orchestrate the stage modules; they print through stdout/stderr and never exit.

pub mod completions;
pub mod export;
pub mod fields;
pub mod import;
pub mod run;
pub mod sandbox;
pub mod schema;
pub mod template;
pub mod validate;

mod logging;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// The runtime of a command that only waits on the network (two workers are plenty: the
/// client's rate limiter, not the CPU, sets the pace).
fn small_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Runs a parsed command line and returns its exit status. Errors are printed once, with
/// their whole chain, and with any secret redacted.
pub fn run(cli: Cli) -> Exit {
    logging::init(&cli.log);
    let result = match cli.command {
        Command::Sandbox(args) => sandbox::run(args),
        Command::Fields(args) => fields::run(args),
        Command::Template(args) => template::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Import(args) => import::run(args),
        Command::Export(args) => export::run(args),
        Command::Run(args) => run::run(args),
        Command::Schema(command) => schema::run(command),
        Command::Completions(args) => completions::run(args),
        Command::Man => completions::man(),
    };
    match result {
        Ok(exit) => exit,
        Err(err) => {
            if is_broken_pipe(&err) {
                return Exit::Success;
            }
            let mut message = format!("error: {err}");
            for cause in err.chain().skip(1) {
                message.push_str(&format!("\n  caused by: {cause}"));
            }
            eprintln!("{}", crate::secret::redact_text(&message));
            match err.downcast_ref::<UsageError>() {
                Some(_) => Exit::Usage,
                None => Exit::Failure,
            }
        }
    }
}

/// An error in how the command was used (exit 2), as opposed to one that stopped the run.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
