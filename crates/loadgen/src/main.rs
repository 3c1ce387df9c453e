//! `polytls-loadgen echo --listen ADDR` and `polytls-loadgen run --connect
//! ADDR ...`: the echo target and the load generator as a process, for
//! benchmarks that compare the polytls tunnel with other programs.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use polytls_loadgen::LoadSpec;

/// Echo target and load generator (development tool).
#[derive(Parser, Debug)]
#[command(name = "polytls-loadgen")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Plaintext echo server; prints `listening on ADDR`.
    Echo {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
    },
    /// Load against an echo service; prints a JSON report.
    Run(LoadSpec),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("polytls-loadgen: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match args.command {
        Command::Echo { listen } => rt.block_on(async {
            let listener = match tokio::net::TcpListener::bind(&listen).await {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("polytls-loadgen: binding {listen}: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match listener.local_addr() {
                Ok(addr) => println!("listening on {addr}"),
                Err(e) => {
                    eprintln!("polytls-loadgen: {e}");
                    return ExitCode::FAILURE;
                }
            }
            match polytls_loadgen::echo_server(listener).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("polytls-loadgen: accepting: {e}");
                    ExitCode::FAILURE
                }
            }
        }),
        Command::Run(spec) => {
            let report = rt.block_on(polytls_loadgen::run(&spec));
            println!(
                "{}",
                serde_json::to_string(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
            );
            if report.failed == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "polytls-loadgen: {} of {} connections failed; first: {}",
                    report.failed,
                    report.ok + report.failed,
                    report.first_error.unwrap_or_default()
                );
                ExitCode::FAILURE
            }
        }
    }
}
