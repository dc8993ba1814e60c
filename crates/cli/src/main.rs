//! `maverick`: one command that shows the whole client working, against
//! the real API, any OpenAI-compatible host, or the embedded contract mock.
//!
//! Exit codes: 0 success, 1 API or network failure, 2 usage or
//! configuration error, 3 breaking spec drift, 4 non-breaking spec drift,
//! 130 interrupted (Ctrl-C).

mod batch_file;
mod batch_merge;
mod batch_output;
mod batch_progress;
mod cmd_batch;
mod cmd_chat;
mod cmd_mock;
mod cmd_proxy;
mod cmd_spec;
mod connect;
mod conversation;
mod exit;
mod input;
mod output;
mod repl;
mod request;
mod settings;
mod traffic;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

const AFTER_HELP: &str = "\
Key: AIML_API_KEY or AIMLAPI_API_KEY, or the variable `chat --api-key-env NAME` names; never an argument.
Base URL: --base-url, else the profile's, else AIML_API_BASE or AIMLAPI_API_BASE. See `maverick chat --help`.
Logging: -v on chat, or RUST_LOG (e.g. RUST_LOG=maverick=debug). NO_COLOR turns colour off.

Exit codes:
  0    success (also when stdout is closed early, as with | head)
  1    API or network failure
  2    usage or configuration error
  3    spec update --check: breaking drift; proxy --fail-on-violation: the client would break;
       spec check-traffic: a violation the normaliser does not absorb
  4    spec update --check: non-breaking drift; proxy --fail-on-violation: only the published contract departed from
  130  interrupted (Ctrl-C)";

/// Chat with Llama-4-Maverick on the AI/ML API or any OpenAI-compatible host.
#[derive(Debug, Parser)]
#[command(name = "maverick", version, about, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send a chat completion and print the answer; -i for a conversation.
    Chat(Box<cmd_chat::ChatArgs>),
    /// Run an OpenAI Batch file (JSON lines) through the host: resumable, rate-limited, with progress.
    Batch(Box<cmd_batch::BatchArgs>),
    /// Run the contract mock server until interrupted (--replay DIR serves recorded traffic).
    Mock(cmd_mock::MockArgs),
    /// Forward to a real host, validate the traffic both ways, record cassettes; report on Ctrl-C.
    Proxy(cmd_proxy::ProxyArgs),
    /// Compare and update the OpenAPI document the client is generated from.
    Spec {
        #[command(subcommand)]
        cmd: cmd_spec::SpecCommand,
    },
    /// Print a shell completion script: maverick completions bash > ~/.local/share/bash-completion/completions/maverick
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// `RUST_LOG` picks what the library and the CLI log; `-v` shows the CLI's
/// call summaries (printed by the CLI itself) and `-vv` the library's log.
fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter: Targets = match std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty()) {
        Some(spec) => match spec.parse() {
            Ok(filter) => filter,
            Err(e) => {
                eprintln!("{}RUST_LOG {spec:?} ignored: {e}", exit::PREFIX);
                return;
            }
        },
        None if verbose >= 2 => "maverick=debug,maverick_cli=off".parse().expect("a valid filter"),
        None => return,
    };
    let colour = output::colour_for(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(colour),
        )
        .with(filter)
        .try_init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completions { shell } = cli.command {
        let mut cmd = Cli::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd, "maverick", &mut out);
        return match output::out(&String::from_utf8_lossy(&out)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(f) => f.report(),
        };
    }
    let verbose = match &cli.command {
        Command::Chat(args) => args.verbosity(),
        _ => 0,
    };
    init_logging(verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return exit::Failure::Network(format!("cannot start the async runtime: {e}")).report(),
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            Command::Chat(args) => cmd_chat::run(*args).await,
            Command::Batch(args) => cmd_batch::run(*args).await,
            Command::Mock(args) => cmd_mock::run(args).await,
            Command::Proxy(args) => cmd_proxy::run(args).await,
            Command::Spec { cmd } => Ok(cmd_spec::run(cmd).await),
            Command::Completions { .. } => unreachable!("handled above"),
        }
    });
    match outcome {
        Ok(code) => code,
        Err(failure) => failure.report(),
    }
}
