//! `maverick`: one command that shows the whole client working, against
//! the real API or the embedded contract mock.
//!
//! Exit codes: 0 success, 1 API or network failure, 2 usage or
//! configuration error, 130 interrupted (Ctrl-C).

mod cmd_chat;
mod cmd_mock;
mod cmd_spec;
mod exit;
mod request;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Chat with Llama-4-Maverick on the AI/ML API or any OpenAI-compatible host.
#[derive(Debug, Parser)]
#[command(
    name = "maverick",
    version,
    about,
    after_help = "Key: AIML_API_KEY or AIMLAPI_API_KEY. Base URL: --base-url, else AIML_API_BASE or AIMLAPI_API_BASE.\nExit codes: 0 success, 1 API or network failure, 2 usage or configuration error, 130 interrupted."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send one chat completion and print the answer.
    Chat(Box<cmd_chat::ChatArgs>),
    /// Run the contract mock server until interrupted.
    Mock(cmd_mock::MockArgs),
    /// Compare and update the OpenAPI document the client is generated from.
    Spec {
        #[command(subcommand)]
        cmd: cmd_spec::SpecCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return exit::Failure::Network(format!("cannot start the async runtime: {e}")).report(),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Chat(args) => cmd_chat::run(*args).await,
            Command::Mock(args) => cmd_mock::run(args).await,
            Command::Spec { cmd } => Ok(cmd_spec::run(cmd).await),
        }
    });
    match outcome {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
