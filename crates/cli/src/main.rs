//! The `polytls` binary.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use polytls_cli::cli::{Cli, Command};
use polytls_cli::{certs, connect, logging, serve, tunnel, CliError};

fn main() -> ExitCode {
    let matches = Cli::command()
        .long_version(polytls_cli::long_version())
        .get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    logging::init(cli.log_format, cli.verbose);
    match polytls_cli::raise_fd_limit() {
        Ok(n) => tracing::debug!(limit = n, "open files limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open files limit"),
    }
    let result = match cli.command {
        Command::Certs(args) => certs::run(&args).map(|issued| {
            if !issued.new_ca {
                println!("using the existing CA in {}", args.dir.display());
            }
            for f in issued.files {
                println!("wrote {}", f.display());
            }
        }),
        Command::Serve(args) => runtime().and_then(|rt| rt.block_on(serve::run(args))),
        Command::Tunnel(args) => runtime().and_then(|rt| rt.block_on(tunnel::run(*args))),
        Command::Connect(args) => {
            let result = runtime().and_then(|rt| rt.block_on(connect::run(args)));
            // stdin may still be blocked in a reader thread; don't wait for it.
            let code = match &result {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("polytls: {}", chain(e));
                    i32::from(e.exit_code())
                }
            };
            std::process::exit(code);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polytls: {}", chain(&e));
            ExitCode::from(e.exit_code())
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            context: "starting the runtime".into(),
            source,
        })
}

/// The error and its sources, `: `-separated, each once.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(src) = cur {
        let text = src.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = src.source();
    }
    s
}
