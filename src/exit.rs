//! The documented exit codes. Only `main` exits; commands return one of these.
//! It must not decide how a run went: commands pick the status, `main` turns it into the code.

/// Exit status of a command, documented in the README and in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every row succeeded (or the command had nothing per-row to do).
    Success = 0,
    /// The run could not proceed (connection, authentication, bad file, ...).
    Failure = 1,
    /// Usage error (bad arguments).
    Usage = 2,
    /// The run finished, but some rows were invalid or failed.
    RowsFailed = 3,
    /// Interrupted (Ctrl-C) after the report and journal were flushed.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// The worse of two outcomes (used by job files: a job exits with its worst step).
    pub fn worst(self, other: Exit) -> Exit {
        fn rank(e: Exit) -> u8 {
            match e {
                Exit::Success => 0,
                Exit::RowsFailed => 1,
                Exit::Failure => 2,
                Exit::Usage => 3,
                Exit::Interrupted => 4,
            }
        }
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }
}

/// The exit-code table as a literal, so a command's long help can append it with `concat!`
/// (a `const` cannot be concatenated at compile time).
#[macro_export]
macro_rules! exit_codes_help {
    () => {
        "\
Exit codes:
  0    every row succeeded
  1    the run could not proceed (connection, authentication, unreadable file, ...)
  2    usage error
  3    finished, but some rows were invalid or failed (see the report)
  130  interrupted; the report and journal were flushed, rerun with --resume"
    };
}

/// The exit-code table shown in `--help` and the README.
pub const EXIT_CODES_HELP: &str = exit_codes_help!();
