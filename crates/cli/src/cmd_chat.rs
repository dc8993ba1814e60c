//! `maverick chat`: one completion, streamed to the terminal by default, or
//! a conversation with `-i`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use futures_util::StreamExt;
use maverick::{ChatResponse, Client, StreamAccumulator};
use maverick_mock::MockServer;

use crate::conversation::{Conversation, Role};
use crate::exit::{Failure, INTERRUPTED, PREFIX};
use crate::input;
use crate::output::{self, Cost, Paint};
use crate::request::{RequestFlags, Shape};

const CHAT_HELP: &str = "\
Short flags: -m model, -s system, -t temperature, -n max tokens, -f file, -i interactive,
-c continue, -u usage, -v verbose, -p profile.

Prompt: the arguments, then piped stdin, then each --file, a blank line between them.

Host and key:
  --base-url, else the profile's base_url, else AIML_API_BASE / AIMLAPI_API_BASE, else the AI/ML API.
  The key comes from the variable --api-key-env (or the profile's api_key_env) names, else
  AIML_API_KEY / AIMLAPI_API_KEY. With neither, no key is sent: local hosts (llama.cpp, vLLM,
  Ollama) need none; only the AI/ML API is refused up front. Keys are never taken as arguments.

Config: --config, else MAVERICK_CONFIG, else $XDG_CONFIG_HOME/maverick/config.toml
(~/.config/maverick/config.toml). Top-level keys are defaults; [profiles.NAME] tables are
picked with -p NAME, MAVERICK_PROFILE, or `profile = \"NAME\"`. Keys: base_url, model,
api_key_env, no_api_key, allow_http, system, temperature, max_tokens, top_p, usage, stream.

In -i: /system TEXT, /model NAME, /save FILE, /load FILE, /clear, /usage, /help, /exit.
Ctrl-C stops the answer being written; Ctrl-D or /exit ends the session.

Exit codes: 0 success (also when stdout is closed early, as with | head), 1 API or network
failure, 2 usage or configuration error, 130 interrupted.";

#[derive(Debug, Args)]
#[command(after_help = CHAT_HELP)]
pub struct ChatArgs {
    /// The prompt; piped stdin and --file contents are appended to it.
    prompt: Vec<String>,
    /// System message.
    #[arg(short, long, value_name = "TEXT", conflicts_with = "system_file")]
    system: Option<String>,
    /// Read the system message from a file.
    #[arg(long, value_name = "PATH")]
    system_file: Option<PathBuf>,
    /// Attach a text file to the prompt (repeatable).
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    files: Vec<PathBuf>,
    /// Leave stdin alone even when it is a pipe (inside `while read` loops, or
    /// where stdin stays open).
    #[arg(long, conflicts_with = "interactive")]
    no_stdin: bool,
    /// Image file or URL to send with the prompt (repeatable).
    #[arg(long = "image", value_name = "PATH_OR_URL")]
    images: Vec<String>,
    /// Model name (default: the profile's, else the provider's Maverick).
    #[arg(short, long, value_name = "NAME")]
    model: Option<String>,
    #[command(flatten)]
    host: crate::connect::HostArgs,
    /// Upper bound on generated tokens.
    #[arg(short = 'n', long, value_name = "N")]
    max_tokens: Option<u32>,
    /// Sampling temperature (0 to 2).
    #[arg(short, long, value_name = "F")]
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
    /// Print the final response as JSON (accumulated when streaming, usage included).
    #[arg(long, conflicts_with = "interactive")]
    json: bool,
    /// Print tokens, credits and USD spent on stderr after the answer.
    #[arg(short, long)]
    usage: bool,
    /// Show each call's request id, status, attempts and latency on stderr (-vv: the library's log too).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// A conversation: turns from the terminal, or line by line from stdin.
    #[arg(short, long)]
    interactive: bool,
    /// Resume a conversation saved with /save or --save.
    #[arg(short = 'c', long = "continue", value_name = "FILE")]
    continue_from: Option<PathBuf>,
    /// Save the conversation to FILE after the answer (with -i: when the session ends).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
}

/// Everything a turn needs, set up once.
pub struct Session {
    pub client: Client,
    pub shape: Shape,
    pub conversation: Conversation,
    /// Set by `/model`; the client's model otherwise.
    pub model: Option<String>,
    pub stream: bool,
    pub json: bool,
    pub usage: bool,
    pub verbose: bool,
    pub total: Cost,
    pub save: Option<PathBuf>,
    /// Kept alive until the session ends; dropping it stops the mock.
    _mock: Option<MockServer>,
}

impl ChatArgs {
    pub fn verbosity(&self) -> u8 {
        self.verbose
    }
}

fn real_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

async fn setup(args: &mut ChatArgs) -> Result<Session, Failure> {
    let env: &dyn Fn(&str) -> Option<String> = &real_env;
    let profile = args.host.settings(env)?;

    let mut conversation = match &args.continue_from {
        Some(path) => Conversation::load(path, "--continue")?,
        None => Conversation::default(),
    };
    let system = match (&args.system, &args.system_file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(path)) => Some(input::read_text(path, "--system-file")?),
        (None, None) => conversation
            .system()
            .map(str::to_string)
            .or_else(|| profile.system.clone()),
    };
    conversation.set_system(system.filter(|s| !s.trim().is_empty()));
    let model = args
        .model
        .clone()
        .or_else(|| profile.model.clone())
        .or_else(|| conversation.model.clone());

    let stream = !args.no_stream && profile.stream != Some(false);
    let usage = args.usage || profile.usage == Some(true);
    let verbose = args.verbose > 0;
    let shape = Shape::new(RequestFlags {
        images: std::mem::take(&mut args.images),
        max_tokens: args.max_tokens.or(profile.max_tokens),
        temperature: args.temperature.or(profile.temperature),
        top_p: args.top_p.or(profile.top_p),
        seed: args.seed,
        stops: std::mem::take(&mut args.stops),
        tools: std::mem::take(&mut args.tools),
        tool_choice: args.tool_choice.take(),
        schema: args.schema.take(),
        include_usage: stream && (args.json || usage || verbose || args.interactive),
    })?;

    let (client, mock) = crate::connect::client(args.host.connection(model, None), &profile, env).await?;
    conversation.model = Some(client.model().to_string());
    Ok(Session {
        client,
        shape,
        conversation,
        model: None,
        stream,
        json: args.json,
        usage,
        verbose,
        total: Cost::default(),
        save: args.save.take(),
        _mock: mock,
    })
}

pub async fn run(mut args: ChatArgs) -> Result<ExitCode, Failure> {
    let mut session = setup(&mut args).await?;
    if args.interactive {
        if !args.files.is_empty() || !args.prompt.is_empty() {
            // The first turn of the conversation.
            let first = input::assemble(&args.prompt, None, &read_files(&args.files)?);
            return crate::repl::run(session, Some(first)).await;
        }
        return crate::repl::run(session, None).await;
    }
    let prompt = input::prompt(&args.prompt, &args.files, !args.no_stdin)?;
    let call = session.turn(&prompt, true);
    let answer = tokio::select! {
        answer = call => answer?,
        _ = tokio::signal::ctrl_c() => {
            // Leave the terminal on a fresh line; the call is dropped, which
            // closes the connection.
            let _ = output::out("\n");
            output::note(&format!("{PREFIX}interrupted"));
            return Ok(ExitCode::from(INTERRUPTED));
        }
    };
    if let Some(path) = session.save.clone() {
        session.conversation.push(Role::User, prompt);
        session
            .conversation
            .push(Role::Assistant, answer.text().unwrap_or_default());
        session
            .conversation
            .save(&path)
            .map_err(|e| Failure::Usage(format!("--save {}: {e}", path.display())))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn read_files(files: &[PathBuf]) -> Result<Vec<(PathBuf, String)>, Failure> {
    files
        .iter()
        .map(|p| input::read_text(p, "--file").map(|t| (p.clone(), t)))
        .collect()
}

impl Session {
    pub fn model_name(&self) -> &str {
        self.model.as_deref().unwrap_or(self.client.model())
    }

    /// One call with the conversation so far and `prompt`: the answer is
    /// printed (streamed unless `--no-stream`), then tool calls, then usage
    /// with `-u`. The conversation itself is left to the caller.
    pub async fn turn(&mut self, prompt: &str, images: bool) -> Result<ChatResponse, Failure> {
        let history: Vec<_> = self.conversation.turns().collect();
        let request = self
            .shape
            .request(self.conversation.system(), &history, prompt, images)?;
        let request = match &self.model {
            Some(model) => request.model(model.clone()),
            None => request,
        };
        let started = Instant::now();
        let (response, cost, first) = if self.stream {
            self.streamed(request, started).await?
        } else {
            let response = self.client.chat(request).await?;
            let cost = Cost::from_parts(
                response.usage().and_then(|u| serde_json::to_value(u).ok()),
                &response.meta,
                response.raw_json().as_ref().and_then(|v| v.get("meta")),
            );
            (response, cost, None)
        };
        let summary = output::call_summary(self.client.base_url(), &response.meta, started.elapsed(), first);
        output::verbose(self.verbose, &summary);
        self.print_final(&response, !self.stream)?;
        if self.usage {
            output::note(&Paint::stderr().dim(&cost.line("usage")));
        }
        self.total.add(&cost);
        Ok(response)
    }

    async fn streamed(
        &self,
        request: maverick::ChatRequest,
        started: Instant,
    ) -> Result<(ChatResponse, Cost, Option<std::time::Duration>), Failure> {
        let mut stream = self.client.chat_stream(request).await?;
        let mut acc = StreamAccumulator::new();
        let mut first = None;
        while let Some(item) = stream.next().await {
            let chunk = item?;
            acc.push(&chunk);
            if let Some(piece) = chunk.text().filter(|p| !p.is_empty()) {
                first.get_or_insert_with(|| started.elapsed());
                if !self.json {
                    output::out(piece)?;
                }
            }
        }
        let cost = Cost::from_parts(
            stream.usage().and_then(|u| serde_json::to_value(u).ok()),
            stream.meta(),
            stream
                .provider_meta()
                .map(|m| serde_json::Value::Object(m.clone()))
                .as_ref(),
        );
        let mut response = acc.finish()?;
        response.meta = stream.meta().clone();
        Ok((response, cost, first))
    }

    /// Prints what is left to print: all of it as JSON, or the text (unless
    /// it was already streamed) followed by any tool calls.
    fn print_final(&self, response: &ChatResponse, print_text: bool) -> Result<(), Failure> {
        if self.json {
            let text = serde_json::to_string_pretty(&response.completion)
                .map_err(|e| Failure::Network(format!("cannot encode the response as JSON: {e}")))?;
            return output::out(&format!("{text}\n"));
        }
        let mut rest = String::new();
        if print_text {
            rest.push_str(response.text().unwrap_or_default());
        }
        rest.push('\n');
        let paint = Paint::stdout();
        for call in response.tool_calls() {
            let line = format!("tool call {} {}: {}", call.id, call.name, call.arguments);
            rest.push_str(&paint.cyan(&line));
            rest.push('\n');
        }
        output::out(&rest)
    }
}
