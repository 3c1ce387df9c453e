//! Log set-up: `tracing` events to stderr, as text or one JSON object per line.

use clap::ValueEnum;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// How log events are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// `key=value` text, one event per line.
    #[default]
    Text,
    /// One JSON object per line, fields at the top level.
    Json,
}

/// Installs the global subscriber. `RUST_LOG` overrides the level
/// (default `info`, or `debug` with `verbose`).
pub fn init(format: LogFormat, verbose: bool) {
    let default = if verbose { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    // A second init (tests that run several commands in-process) keeps the first.
    let _ = result;
}
