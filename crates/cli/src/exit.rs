//! The exit-code contract scripts rely on, in one place.
//!
//! Every message the command writes about a failure starts with
//! `maverick: `, whichever subcommand wrote it.

use std::process::ExitCode;

/// Why a command stopped early, which decides its exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad flags, files or configuration: exit 2.
    Usage(String),
    /// The API refused, or the network failed: exit 1.
    Network(String),
    /// Whoever read stdout went away (`| head`): exit 0 without a word,
    /// as `cat` and `grep` do.
    Closed,
}

/// Exit code for Ctrl-C, as shells report SIGINT.
pub const INTERRUPTED: u8 = 130;

/// The prefix of every message on stderr.
pub const PREFIX: &str = "maverick: ";

impl Failure {
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Usage(message) => {
                eprintln!("{PREFIX}{message}");
                ExitCode::from(2)
            }
            Failure::Network(message) => {
                eprintln!("{PREFIX}{message}");
                ExitCode::from(1)
            }
            Failure::Closed => ExitCode::SUCCESS,
        }
    }
}

/// A failed write to stdout: a closed pipe ends the command quietly, any
/// other error is reported.
pub fn stdout_failed(e: std::io::Error) -> Failure {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Failure::Closed
    } else {
        Failure::Network(format!("cannot write to stdout: {e}"))
    }
}

impl From<maverick::Error> for Failure {
    fn from(e: maverick::Error) -> Self {
        // The library's messages never contain the key, and say what to fix.
        match e {
            maverick::Error::Config(_) | maverick::Error::InvalidRequest { .. } => Failure::Usage(e.to_string()),
            other => Failure::Network(other.to_string()),
        }
    }
}

impl From<maverick_mock::MockError> for Failure {
    fn from(e: maverick_mock::MockError) -> Self {
        match e {
            maverick_mock::MockError::Serve(_) => Failure::Network(e.to_string()),
            other => Failure::Usage(other.to_string()),
        }
    }
}
