//! Sets up `tracing` from `-q`/`-v`/`--log-format`. Log lines go to stderr; stdout is for
//! data. Messages that may embed a URL are redacted where they are made, not here.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::{LogArgs, LogFormat};

pub fn init(args: &LogArgs) {
    let level = match (args.quiet, args.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_env("CRM_BULK_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("crm_bulk={level},warn")));
    // Escape codes only for a person at a terminal: log files and shippers get plain text.
    let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false);
    let _ = match args.log_format {
        LogFormat::Text => builder.without_time().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
