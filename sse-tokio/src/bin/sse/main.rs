//! `sse`: Server-Sent Events from the command line.

mod filters;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Server-Sent Events from the command line.
#[derive(Debug, Parser)]
#[command(name = "sse", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read a raw text/event-stream on stdin, print each event as a JSON line
    /// ({"type", "data", "lastEventId"}) as soon as it is complete.
    Decode(filters::DecodeArgs),
    /// Read JSON lines on stdin (events as `sse decode` prints them, or
    /// {"comment": ..} and {"retry": ..}), write a raw text/event-stream.
    Encode,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Decode(args) => filters::decode(args),
        Command::Encode => filters::encode(),
    };
    match result {
        Ok(code) => code,
        // A closed pipe (`sse decode | head`) is a normal way for a filter to end.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sse: {error}");
            ExitCode::FAILURE
        }
    }
}
