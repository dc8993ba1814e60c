//! `maverick proxy`: a validating, recording proxy in front of a real host,
//! so a user's integration tests (in any language) can run through it and
//! learn whether the host keeps the contract the client relies on.
//!
//! Exit codes: 0 on Ctrl-C; with `--fail-on-violation`, 3 if the client
//! would break (the normalised document was violated), 4 if the host only
//! departs from the published document; 2 for bad flags.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use maverick_mock::{DriftReport, Proxy, ProxyError};

use crate::exit::Failure;

#[derive(Debug, Args)]
pub struct ProxyArgs {
    /// The host to forward to: https://host, https://host/v1 and https://host/ are the same.
    #[arg(long, value_name = "URL")]
    upstream: String,
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Write each exchange as a JSON cassette in DIR (replay with `maverick mock --replay DIR`).
    #[arg(long, value_name = "DIR")]
    record: Option<PathBuf>,
    /// Write the drift report as JSON (format maverick-drift-report/1) to FILE on exit.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Exit 3 if the client would break, 4 if the host only departs from the published document.
    #[arg(long)]
    fail_on_violation: bool,
    /// A header never written to cassettes (Authorization and other credential headers never are).
    #[arg(long, value_name = "HEADER")]
    redact: Vec<String>,
}

pub async fn run(args: ProxyArgs) -> Result<ExitCode, Failure> {
    let mut builder = Proxy::builder().upstream(args.upstream).addr(args.addr);
    if let Some(dir) = &args.record {
        builder = builder.record(dir);
    }
    for header in args.redact {
        builder = builder.redact(header);
    }
    let proxy = builder.start().await.map_err(|e| match e {
        ProxyError::Client(_) => Failure::Network(e.to_string()),
        other => Failure::Usage(other.to_string()),
    })?;
    // Listening for Ctrl-C starts before the address is printed, so a
    // script that interrupts as soon as it reads the line gets the report.
    let interrupted = interrupt()?;
    // Scripts wait for this exact first line before connecting.
    println!("listening on http://{}", proxy.addr());
    let _ = std::io::stdout().flush();
    interrupted.await;
    let errors = proxy.record_errors();
    let report = proxy.shutdown().await;
    finish(&report, args.report.as_deref(), args.fail_on_violation, &errors)
}

/// Prints the text report on stderr, writes the JSON one, and picks the exit code.
fn finish(
    report: &DriftReport,
    file: Option<&std::path::Path>,
    fail_on_violation: bool,
    record_errors: &[String],
) -> Result<ExitCode, Failure> {
    eprint!("{}", report.to_text());
    for e in record_errors {
        eprintln!("{}{e}", crate::exit::PREFIX);
    }
    if let Some(path) = file {
        let mut text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| Failure::Usage(format!("cannot encode the report: {e}")))?;
        text.push('\n');
        std::fs::write(path, text)
            .map_err(|e| Failure::Usage(format!("cannot write the report to {}: {e}", path.display())))?;
    }
    if !record_errors.is_empty() {
        return Err(Failure::Usage(format!(
            "{} cassettes could not be written (see above)",
            record_errors.len()
        )));
    }
    let code = if fail_on_violation {
        report.verdict().exit_code()
    } else {
        0
    };
    Ok(ExitCode::from(code))
}

/// A future that completes on Ctrl-C (SIGINT), registered when this returns.
#[cfg(unix)]
fn interrupt() -> Result<impl std::future::Future<Output = ()>, Failure> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigint =
        signal(SignalKind::interrupt()).map_err(|e| Failure::Network(format!("cannot listen for Ctrl-C: {e}")))?;
    Ok(async move {
        sigint.recv().await;
    })
}

#[cfg(not(unix))]
fn interrupt() -> Result<impl std::future::Future<Output = ()>, Failure> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
