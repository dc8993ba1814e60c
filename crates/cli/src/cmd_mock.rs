//! `maverick mock`: the contract mock as a process, for clients in other
//! languages and for tests that cannot link Rust.

use std::net::SocketAddr;
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
}

pub async fn run(args: MockArgs) -> Result<ExitCode, Failure> {
    let mut config = MockConfig::default().seed(args.seed);
    if let Some(key) = args.api_key {
        config = config.api_key(key);
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
