//! The command line's error: what failed, in words, with the typed cause.

use std::fmt::Display;

/// A `Result` with a [`CliError`].
pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A TLS configuration or protocol error, with what was being done.
    #[error("{context}: {source}")]
    Tls {
        /// What was being done.
        context: String,
        /// The polytls error.
        #[source]
        source: polytls::Error,
    },
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done (naming the file or address).
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Invalid arguments or configuration.
    #[error("{0}")]
    Config(String),
    /// Something did not happen in time.
    #[error("{0}")]
    Timeout(String),
}

impl CliError {
    /// The process exit code: 2 for a configuration the command refuses
    /// (as for a bad flag), 1 for a failure while running.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => 2,
            CliError::Tls { source, .. } => match source {
                polytls::Error::InvalidConfig(_) | polytls::Error::Unsupported(_) => 2,
                _ => 1,
            },
            CliError::Io { .. } | CliError::Timeout(_) => 1,
        }
    }
}

/// Adds context to errors of polytls and of std::io.
pub trait Context<T> {
    /// Wraps the error with `what` was being done.
    fn context(self, what: impl Display) -> Result<T>;
}

impl<T> Context<T> for std::result::Result<T, polytls::Error> {
    fn context(self, what: impl Display) -> Result<T> {
        self.map_err(|source| CliError::Tls {
            context: what.to_string(),
            source,
        })
    }
}

impl<T> Context<T> for std::io::Result<T> {
    fn context(self, what: impl Display) -> Result<T> {
        self.map_err(|source| CliError::Io {
            context: what.to_string(),
            source,
        })
    }
}
