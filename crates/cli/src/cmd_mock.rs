//! `maverick mock`: the contract mock as a process, for clients in other
//! languages and for tests that cannot link Rust.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use maverick_mock::MockConfig;

use crate::exit::Failure;

#[derive(Debug, Args)]
pub struct MockArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Accept only this bearer key (default: any non-empty key).
    #[arg(long, value_name = "KEY")]
    api_key: Option<String>,
    /// Seed mixed into every answer.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Serve the cassettes in DIR (recorded by `maverick proxy --record DIR`) instead of generated answers.
    #[arg(long, value_name = "DIR")]
    replay: Option<PathBuf>,
    /// Replay pace: 1 as recorded, 2 twice as fast, 0 without waiting.
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "replay")]
    replay_speed: f64,
    /// A top-level request field matching ignores (repeatable); replaces the default list (user, metadata).
    #[arg(long, value_name = "FIELD", requires = "replay")]
    replay_ignore: Vec<String>,
}

pub async fn run(args: MockArgs) -> Result<ExitCode, Failure> {
    let mut config = MockConfig::default().seed(args.seed);
    if let Some(key) = args.api_key {
        config = config.api_key(key);
    }
    if let Some(dir) = args.replay {
        config = config.replay(dir).replay_speed(args.replay_speed)?;
        if !args.replay_ignore.is_empty() {
            config = config.replay_volatile(args.replay_ignore);
        }
    }
    config.check()?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|e| Failure::Usage(format!("cannot listen on {}: {e}; choose another --addr", args.addr)))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Failure::Network(format!("cannot read the bound address: {e}")))?;
    // Scripts wait for this exact first line before connecting.
    println!("listening on http://{bound}");
    use std::io::Write;
    let _ = std::io::stdout().flush();
    tokio::select! {
        served = maverick_mock::serve(listener, config) => served.map(|()| ExitCode::SUCCESS).map_err(Failure::from),
        // Ctrl-C is how a mock is meant to stop, so it is a success.
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::SUCCESS),
    }
}
