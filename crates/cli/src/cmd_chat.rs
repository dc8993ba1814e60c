//! `maverick chat`: one completion, streamed to the terminal by default.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use futures_util::StreamExt;
use maverick::{ChatResponse, Client, StreamAccumulator};
use maverick_mock::MockServer;

use crate::exit::{Failure, INTERRUPTED};
use crate::request::{self, RequestFlags};

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The prompt; read from stdin when no words are given.
    prompt: Vec<String>,
    /// System message.
    #[arg(long, value_name = "TEXT")]
    system: Option<String>,
    /// Image file or URL to send with the prompt (repeatable).
    #[arg(long = "image", value_name = "PATH_OR_URL")]
    images: Vec<String>,
    /// Model name (default: the provider's Maverick).
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// API base URL, e.g. http://localhost:8000/v1 for vLLM.
    #[arg(long, value_name = "URL", conflicts_with = "mock")]
    base_url: Option<String>,
    /// Upper bound on generated tokens.
    #[arg(long, value_name = "N")]
    max_tokens: Option<u32>,
    /// Sampling temperature (0 to 2).
    #[arg(long, value_name = "F")]
    temperature: Option<f64>,
    /// Nucleus sampling mass (0 to 1).
    #[arg(long, value_name = "F")]
    top_p: Option<f64>,
    /// Seed for reproducible sampling, where the host supports it.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Stop sequence (repeatable).
    #[arg(long = "stop", value_name = "TEXT")]
    stops: Vec<String>,
    /// JSON file with a function definition {name, description, parameters} (repeatable).
    #[arg(long = "tool", value_name = "FILE")]
    tools: Vec<PathBuf>,
    /// auto, none, required, or the name of a --tool.
    #[arg(long, value_name = "auto|none|required|NAME")]
    tool_choice: Option<String>,
    /// JSON Schema file the answer must match (response_format json_schema).
    #[arg(long, value_name = "FILE")]
    schema: Option<PathBuf>,
    /// Make one non-streaming call.
    #[arg(long)]
    no_stream: bool,
    /// Print the final response as JSON (accumulated when streaming).
    #[arg(long)]
    json: bool,
    /// Answer from the embedded contract mock; no key needed.
    #[arg(long)]
    mock: bool,
}

pub async fn run(args: ChatArgs) -> Result<ExitCode, Failure> {
    let json = args.json;
    let stream = !args.no_stream;
    let request = request::build(RequestFlags {
        prompt: args.prompt,
        system: args.system,
        images: args.images,
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        top_p: args.top_p,
        seed: args.seed,
        stops: args.stops,
        tools: args.tools,
        tool_choice: args.tool_choice,
        schema: args.schema,
    })?;

    // Kept alive until the call ends; dropping it stops the mock.
    let mut _mock = None;
    let mut builder = Client::builder();
    if args.mock {
        let server = MockServer::start().await?;
        builder = builder.api_key("maverick-cli-mock").base_url(server.base_url());
        _mock = Some(server);
    } else {
        if !maverick::KEY_VARS
            .iter()
            .any(|v| std::env::var(v).is_ok_and(|k| !k.trim().is_empty()))
        {
            return Err(Failure::Usage(format!(
                "no API key: set {} (or {}), or pass --mock to use the embedded mock",
                maverick::KEY_VARS[0],
                maverick::KEY_VARS[1]
            )));
        }
        if let Some(url) = args.base_url {
            builder = builder.base_url(url);
        }
    }
    if let Some(model) = args.model {
        builder = builder.model(model);
    }
    let client = builder.build()?;

    let call = async {
        if stream {
            streamed(&client, request, json).await
        } else {
            let response = client.chat(request).await?;
            print_final(&response, json, true)
        }
    };
    tokio::select! {
        result = call => result.map(|()| ExitCode::SUCCESS),
        _ = tokio::signal::ctrl_c() => {
            // Leave the terminal on a fresh line; the call is dropped, which
            // closes the connection.
            println!();
            eprintln!("maverick: interrupted");
            Ok(ExitCode::from(INTERRUPTED))
        }
    }
}

async fn streamed(client: &Client, request: maverick::ChatRequest, json: bool) -> Result<(), Failure> {
    let mut stream = client.chat_stream(request).await?;
    let mut acc = StreamAccumulator::new();
    let mut out = std::io::stdout();
    let mut printed = false;
    while let Some(item) = stream.next().await {
        let chunk = item?;
        acc.push(&chunk);
        if json {
            continue;
        }
        if let Some(piece) = chunk.text() {
            if !piece.is_empty() {
                write!(out, "{piece}")
                    .and_then(|()| out.flush())
                    .map_err(stdout_failed)?;
                printed = true;
            }
        }
    }
    print_final(&acc.finish()?, json, !printed)
}

/// Prints what is left to print: all of it as JSON, or the text (unless it
/// was already streamed) followed by any tool calls.
fn print_final(response: &ChatResponse, json: bool, print_text: bool) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    if json {
        let text = serde_json::to_string_pretty(&response.completion)
            .map_err(|e| Failure::Network(format!("cannot encode the response as JSON: {e}")))?;
        return writeln!(out, "{text}").map_err(stdout_failed);
    }
    if print_text {
        write!(out, "{}", response.text().unwrap_or_default()).map_err(stdout_failed)?;
    }
    writeln!(out).map_err(stdout_failed)?;
    for call in response.tool_calls() {
        writeln!(out, "tool call {} {}: {}", call.id, call.name, call.arguments).map_err(stdout_failed)?;
    }
    out.flush().map_err(stdout_failed)
}

fn stdout_failed(e: std::io::Error) -> Failure {
    Failure::Network(format!("cannot write to stdout: {e}"))
}
