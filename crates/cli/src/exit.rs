//! The exit-code contract scripts rely on, in one place.

use std::process::ExitCode;

/// Why a command failed, which decides its exit code.
#[derive(Debug)]
pub enum Failure {
    /// Bad flags, files or configuration: exit 2.
    Usage(String),
    /// The API refused, or the network failed: exit 1.
    Network(String),
}

/// Exit code for Ctrl-C, as shells report SIGINT.
pub const INTERRUPTED: u8 = 130;

impl Failure {
    pub fn report(self) -> ExitCode {
        match self {
            Failure::Usage(message) => {
                eprintln!("maverick: {message}");
                ExitCode::from(2)
            }
            Failure::Network(message) => {
                eprintln!("maverick: {message}");
                ExitCode::from(1)
            }
        }
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
