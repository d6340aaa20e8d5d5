//! `sse`: Server-Sent Events from the command line.

mod filters;
mod json;
mod limits;
mod listen;
mod publish;
mod serve;

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
    /// Run a hub: subscribe with GET /events?channel=.., publish with POST
    /// /publish, and a chat page at / (http://127.0.0.1:5000 by default).
    Serve(Box<serve::ServeArgs>),
    /// Read a raw text/event-stream on stdin, print each event as a JSON line
    /// ({"type", "data", "lastEventId"}) as soon as it is complete.
    Decode(filters::DecodeArgs),
    /// Read JSON lines on stdin (events as `sse decode` prints them, or
    /// {"comment": ..} and {"retry": ..}), write a raw text/event-stream.
    Encode,
    /// Print the events of a stream as they come; reconnect and resume
    /// with Last-Event-ID as a browser would.
    #[command(after_long_help = listen::JSON_LINES)]
    Listen(listen::ListenArgs),
    /// Send one event to a hub started with `sse serve`; print its id.
    Publish(publish::PublishArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => return run("serve", serve::serve(*args)),
        Command::Decode(args) => filters::decode(&args),
        Command::Encode => filters::encode(),
        Command::Listen(args) => return run("listen", listen::listen(args)),
        Command::Publish(args) => {
            return run("publish", async move {
                publish::publish(args).await.map(|()| ExitCode::SUCCESS)
            });
        }
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

/// Runs an async subcommand on a tokio runtime; an error is printed as
/// `sse NAME: error` and exits with 1.
fn run(name: &str, command: impl Future<Output = Result<ExitCode, String>>) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sse {name}: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("sse {name}: {message}");
            ExitCode::FAILURE
        }
    }
}
