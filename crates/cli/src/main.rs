//! The `polytls` binary.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use polytls_cli::cli::{Cli, Command};
use polytls_cli::{certs, connect, loadgen, logging, serve, tunnel, CliError};

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
        command => runtime().and_then(|rt| rt.block_on(run_async(command))),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("polytls: {}", chain(&e));
            ExitCode::FAILURE
        }
    }
}

async fn run_async(command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => serve::run(args).await,
        Command::Connect(args) => {
            let r = connect::run(args).await;
            // stdin may still be blocked in a reader thread; don't wait for it.
            let code = if r.is_ok() { 0 } else { 1 };
            if let Err(e) = &r {
                eprintln!("polytls: {}", chain(e));
            }
            std::process::exit(code);
        }
        Command::Tunnel(args) => tunnel::run(args).await,
        Command::EchoServer { listen } => {
            let listener = polytls_cli::bind_listener(&listen)
                .await
                .map_err(|source| CliError::Io {
                    context: format!("binding {listen}"),
                    source,
                })?;
            let addr = listener.local_addr().map_err(|source| CliError::Io {
                context: "local address".into(),
                source,
            })?;
            println!("listening on {addr}");
            loadgen::echo_server(listener)
                .await
                .map_err(|source| CliError::Io {
                    context: "accepting".into(),
                    source,
                })
        }
        Command::Loadgen(spec) => {
            let report = loadgen::run(&spec).await;
            println!(
                "{}",
                serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
            );
            if report.failed == 0 {
                Ok(())
            } else {
                Err(CliError::Config(format!(
                    "{} of {} connections failed; first: {}",
                    report.failed,
                    report.ok + report.failed,
                    report.first_error.unwrap_or_default()
                )))
            }
        }
        Command::Certs(_) => Ok(()),
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
