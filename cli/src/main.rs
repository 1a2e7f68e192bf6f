//! `murmur`: the headless Murmur client and protocol inspector.
//!
//! `murmur inspect …` prints one JSON object per call on stdout (exit 0); bad input gets a clear
//! message on stderr and exit code 2.

mod inspect;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "murmur",
    version,
    about = "Murmur: private messaging over onion-routed swarms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check protocol computations from a shell (keys, recovery phrases, ...).
    #[command(subcommand)]
    Inspect(inspect::Inspect),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(cmd) => inspect::run(cmd),
    };
    match result {
        Ok(json) => {
            println!("{json}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("murmur: {message}");
            std::process::ExitCode::from(2)
        }
    }
}
