//! `maverick batch`: an OpenAI Batch input file through any host, resumable,
//! within rate limits, with progress; `maverick batch merge` joins shards.
//!
//! A thin layer over [`maverick::Client::batch`]: this file reads and
//! checks the input, remembers what the output already answers, writes
//! answers as they come and reports. The formats are in `batch_file`.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Args, Subcommand};
use futures_util::StreamExt;

use crate::batch_file::{id_hash, next_line, parse_entry, Line, Shard};
use crate::batch_output::{self, Appender};
use crate::batch_progress::{Progress, Summary, Tally};
use crate::exit::{Failure, INTERRUPTED, PREFIX};
use crate::output::note;

const BATCH_HELP: &str = "\
Input: one JSON object a line, the OpenAI Batch format:
  {\"custom_id\": \"q1\", \"method\": \"POST\", \"url\": \"/v1/chat/completions\", \"body\": {\"messages\": [...]}}
  body.model defaults to the configured model (-m, the profile's, else the provider's Maverick);
  \"stream\": true in a body is sent as a stream and collected.
Output: one line per custom_id, appended as answers arrive:
  {\"id\", \"custom_id\", \"response\": {\"status_code\", \"request_id\", \"body\"}, \"error\"}
  error is null exactly for successes; failed requests are written with their error and the batch goes on.

Every input line is checked before anything is sent; invalid lines are listed with their line numbers
and the command exits 2 (--skip-invalid runs the rest). Running the same command again with the same -o
skips every custom_id already answered, so an interrupted or crashed run resumes where it stopped.
Ctrl-C stops sending and waits for the calls in flight; a second Ctrl-C abandons them.

--shard K/N runs the lines whose custom_id hashes to shard K of N (FNV-1a 64 of the id, modulo N, plus 1),
so N machines split one file with no coordination; `maverick batch merge OUT1 OUT2 ... -o OUT --input IN`
joins their outputs and checks every input line is answered exactly once.

Exit codes: 0 every request succeeded, 1 some requests failed (their lines carry the error) or the
host could not be reached, 2 invalid input or usage error, 130 interrupted (run again to finish).";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true, after_help = BATCH_HELP)]
pub struct BatchArgs {
    #[command(subcommand)]
    command: Option<BatchCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum BatchCommand {
    /// Join shard outputs into one file, checking each custom_id is answered once.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The input file (JSON lines, OpenAI Batch format).
    #[arg(value_name = "INPUT.jsonl", required = true)]
    input: Option<PathBuf>,
    /// The output file; appended to, and read first to skip what it answers.
    #[arg(short, long, value_name = "OUTPUT.jsonl", required = true)]
    output: Option<PathBuf>,
    /// Most requests in flight at once.
    #[arg(short = 'j', long, value_name = "N", default_value_t = maverick::batch::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Requests per minute, spread evenly.
    #[arg(long, value_name = "N")]
    rpm: Option<u32>,
    /// Tokens per minute (estimated before a call, corrected by the reported usage).
    #[arg(long, value_name = "N")]
    tpm: Option<u64>,
    /// Retries per request (default: the client's, 2).
    #[arg(long, value_name = "N")]
    max_retries: Option<u32>,
    /// Run the valid lines even when some are invalid.
    #[arg(long)]
    skip_invalid: bool,
    /// Run only shard K of N (by custom_id hash).
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Also write the final summary as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Model for lines whose body names none.
    #[arg(short, long, value_name = "NAME")]
    model: Option<String>,
    #[command(flatten)]
    host: crate::connect::HostArgs,
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// Shard outputs to join.
    #[arg(value_name = "SHARD_OUTPUT", required = true)]
    shards: Vec<PathBuf>,
    /// The joined file; written only when every check passes.
    #[arg(short, long, value_name = "OUTPUT.jsonl")]
    output: PathBuf,
    /// The input all shards came from: every valid line must be answered.
    #[arg(long, value_name = "INPUT.jsonl")]
    input: Option<PathBuf>,
}

pub async fn run(args: BatchArgs) -> Result<ExitCode, Failure> {
    match args.command {
        Some(BatchCommand::Merge(merge)) => {
            crate::batch_merge::run(&merge.shards, &merge.output, merge.input.as_deref())
        }
        None => run_batch(args.run).await,
    }
}

fn real_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn open_input(path: &Path) -> Result<BufReader<File>, Failure> {
    File::open(path)
        .map(|f| BufReader::with_capacity(256 * 1024, f))
        .map_err(|e| Failure::Usage(format!("{}: cannot read it: {e}", path.display())))
}

/// What the checking pass learnt, kept for the sending pass: hashes only.
struct Checked {
    tally: Tally,
    /// Ids on more than one line: all those lines are left out.
    repeated: HashSet<u128>,
}

/// The first pass: every line parsed and checked, each problem printed with
/// its line number as found; nothing is sent. Streams the file, keeping
/// only id hashes.
fn check(path: &Path, shard: Option<Shard>, answered: &HashSet<u128>) -> Result<Checked, Failure> {
    let shown = path.display().to_string();
    let mut reader = open_input(path)?;
    let mut buf = Vec::new();
    // Ids seen so far, as hashes: 16 bytes an id, the bulk of this pass's
    // memory. Where an id was first seen is looked up only for repeats.
    let mut seen: HashSet<u128> = HashSet::new();
    let mut repeated = HashSet::new();
    let mut repeats: Vec<(u64, String, u128)> = Vec::new();
    let mut tally = Tally::default();
    let report = |number: u64, id: Option<&str>, problem: &str| {
        let id = id.map(|id| format!(" custom_id {id:?}:")).unwrap_or_default();
        note(&format!("{PREFIX}{shown}:{number}:{id} {problem}"));
    };
    while let Some(line) = next_line(&mut reader, &mut buf).map_err(|e| Failure::Usage(format!("{shown}: {e}")))? {
        tally.lines += 1;
        let number = tally.lines;
        let bytes = match line {
            Line::Text { bytes, .. } => bytes,
            Line::TooLong { bytes } => {
                tally.invalid += 1;
                report(
                    number,
                    None,
                    &format!(
                        "the line is {bytes} bytes, past the {} byte limit",
                        crate::batch_file::MAX_LINE_BYTES
                    ),
                );
                continue;
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            // Blank lines (a trailing one, a spacer) carry no request.
            continue;
        }
        match parse_entry(&bytes) {
            Ok(entry) => {
                let hash = id_hash(&entry.custom_id);
                if !seen.insert(hash) {
                    tally.invalid += 1;
                    repeated.insert(hash);
                    if repeats.len() < SHOWN_REPEATS {
                        repeats.push((number, entry.custom_id, hash));
                    } else {
                        report(number, Some(&entry.custom_id), REPEATED);
                    }
                    continue;
                }
                if shard.is_none_or(|s| s.holds(&entry.custom_id)) {
                    tally.in_shard += 1;
                    if answered.contains(&hash) {
                        tally.already_answered += 1;
                    } else {
                        tally.todo += 1;
                    }
                }
            }
            Err(invalid) => {
                tally.invalid += 1;
                report(number, invalid.custom_id.as_deref(), &invalid.problem);
                // Its id still counts: a later line may not reuse it.
                if let Some(id) = &invalid.custom_id {
                    seen.insert(id_hash(id));
                }
            }
        }
    }
    drop(seen);
    // The first line of a repeated id was counted as work; it is not.
    if !repeated.is_empty() {
        let first_lines = recount(path, shard, answered, &repeated, &mut tally)?;
        for (number, id, hash) in repeats {
            let problem = match first_lines.get(&hash) {
                Some(first) => format!("repeats the custom_id of line {first}; {REPEATED}"),
                None => REPEATED.to_string(),
            };
            report(number, Some(&id), &problem);
        }
    }
    Ok(Checked { tally, repeated })
}

/// Repeated ids reported with the line they repeat (the rest without).
const SHOWN_REPEATS: usize = 1000;
const REPEATED: &str = "ids must be unique (--skip-invalid leaves out every line with this one)";

/// Counts the requests to send once repeated ids are known (a second
/// streaming pass, only when some id repeats), and finds the line each
/// repeated id first appears on.
fn recount(
    path: &Path,
    shard: Option<Shard>,
    answered: &HashSet<u128>,
    repeated: &HashSet<u128>,
    tally: &mut Tally,
) -> Result<HashMap<u128, u64>, Failure> {
    let mut todo = 0;
    let mut in_shard = 0;
    let mut already = 0;
    let mut first_lines = HashMap::new();
    crate::batch_file::each_line(path, "", |number, bytes| {
        // A repeated id counts from its first line, valid or not.
        let Some(id) = crate::batch_file::custom_id_of(bytes) else {
            return true;
        };
        let hash = id_hash(&id);
        if repeated.contains(&hash) {
            first_lines.entry(hash).or_insert(number);
            return true;
        }
        if parse_entry(bytes).is_err() || !shard.is_none_or(|s| s.holds(&id)) {
            return true;
        }
        in_shard += 1;
        if answered.contains(&hash) {
            already += 1;
        } else {
            todo += 1;
        }
        true
    })?;
    tally.todo = todo;
    tally.in_shard = in_shard;
    tally.already_answered = already;
    Ok(first_lines)
}

/// Calls `each` with the number, content and id hash of every valid line,
/// in file order, until it returns `false`.
fn for_each_entry(
    path: &Path,
    mut each: impl FnMut(u64, crate::batch_file::Entry, u128) -> bool,
) -> Result<(), Failure> {
    crate::batch_file::each_line(path, "", |number, bytes| match parse_entry(bytes) {
        Ok(entry) => {
            let hash = id_hash(&entry.custom_id);
            each(number, entry, hash)
        }
        Err(_) => true,
    })
}

async fn run_batch(args: RunArgs) -> Result<ExitCode, Failure> {
    let (Some(input), Some(output)) = (args.input.clone(), args.output.clone()) else {
        return Err(Failure::Usage("batch needs INPUT.jsonl and -o OUTPUT.jsonl".into()));
    };
    let shard = args
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(Failure::Usage)?;
    let env: &dyn Fn(&str) -> Option<String> = &real_env;
    let profile = args.host.settings(env)?;
    let (client, _mock) = crate::connect::client(
        args.host
            .connection(args.model.clone().or_else(|| profile.model.clone()), args.max_retries),
        &profile,
        env,
    )
    .await?;

    // What the output already answers (a torn last line is repaired).
    let out_path = output.clone();
    let answered = tokio::task::spawn_blocking(move || batch_output::scan(&out_path))
        .await
        .map_err(|e| Failure::Network(format!("the output scan failed: {e}")))??;
    if let Some(repair) = &answered.repaired {
        note(&format!("{PREFIX}{repair}"));
    }
    if answered.repeated > 0 {
        note(&format!(
            "{PREFIX}-o {}: {} lines repeat a custom_id answered earlier in the file",
            output.display(),
            answered.repeated
        ));
    }
    let answered = Arc::new(answered.ids);

    // Every line checked before anything is sent.
    let (in_path, seen) = (input.clone(), answered.clone());
    let checked = tokio::task::spawn_blocking(move || check(&in_path, shard, &seen))
        .await
        .map_err(|e| Failure::Network(format!("the input check failed: {e}")))??;
    let Checked { mut tally, repeated } = checked;
    if tally.invalid > 0 && !args.skip_invalid {
        return Err(Failure::Usage(format!(
            "{}: {} invalid line{} (listed above); nothing was sent. Fix them, or pass --skip-invalid to run the rest",
            input.display(),
            tally.invalid,
            if tally.invalid == 1 { "" } else { "s" }
        )));
    }

    // The sending pass: a reader thread feeds the batch through a small
    // channel, so only the requests about to be sent are in memory.
    let (send, receive) = tokio::sync::mpsc::channel(args.concurrency.clamp(1, 1024) * 2);
    let (in_path, seen) = (input.clone(), answered.clone());
    let reader = std::thread::spawn(move || {
        for_each_entry(&in_path, |_, entry, hash| {
            let skip =
                repeated.contains(&hash) || seen.contains(&hash) || !shard.is_none_or(|s| s.holds(&entry.custom_id));
            skip || send.blocking_send((entry.custom_id, entry.request)).is_ok()
        })
    });
    let requests = futures_util::stream::unfold(receive, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    let mut batch = client.batch(requests).concurrency(args.concurrency);
    if let Some(rpm) = args.rpm {
        batch = batch.rpm(rpm);
    }
    if let Some(tpm) = args.tpm {
        batch = batch.tpm(tpm);
    }
    let mut answers = batch.run();
    let control = answers.control();

    // Ctrl-C once: stop sending, let calls in flight finish. Twice: abandon.
    let abandon = Arc::new(tokio::sync::Notify::new());
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let (control, abandon, interrupted) = (control.clone(), abandon.clone(), interrupted.clone());
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            interrupted.store(true, Ordering::SeqCst);
            control.stop();
            // On a terminal the bar holds the line: start a fresh one.
            let fresh = if std::io::stderr().is_terminal() { "\n" } else { "" };
            note(&format!(
                "{fresh}{PREFIX}stopping: no new requests; waiting for those in flight (Ctrl-C again to abandon them)"
            ));
            if tokio::signal::ctrl_c().await.is_ok() {
                abandon.notify_one();
            }
        });
    }

    let mut appender = Appender::open(&output)?;
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let mut ticks = tokio::time::interval(progress.every());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut abandoned = false;
    loop {
        tokio::select! {
            item = answers.next() => {
                let Some((custom_id, result)) = item else { break };
                // One whole line per answer; nothing else is ever written.
                appender.append(&crate::batch_file::output_line(&custom_id, &result))?;
                tally.record(&result);
            }
            _ = ticks.tick() => progress.tick(&tally, &control.stats(), answers.in_flight()),
            () = abandon.notified() => {
                abandoned = true;
                break;
            }
        }
    }
    let in_flight = answers.in_flight();
    drop(answers);
    appender.sync();
    progress.clear();
    if abandoned {
        note(&format!(
            "{PREFIX}abandoned {in_flight} requests in flight; they run again next time"
        ));
    }
    // The input ended early only if reading it failed (the file changed or
    // went away since it was checked): say so, the rest runs next time.
    let read_failed = match reader.is_finished().then(|| reader.join()) {
        Some(Ok(Err(Failure::Usage(message) | Failure::Network(message)))) => Some(message),
        _ => None,
    };
    if let Some(message) = &read_failed {
        note(&format!("{PREFIX}reading the input stopped: {message}"));
    }
    let interrupted = interrupted.load(Ordering::SeqCst);
    let summary = Summary {
        tally: &tally,
        stats: control.stats(),
        elapsed: progress.elapsed(),
        interrupted,
        input: &input.display().to_string(),
        output: &output.display().to_string(),
        shard: shard.map(|s| s.to_string()),
    };
    note(&format!("{PREFIX}{}", summary.line()));
    if let Some(path) = &args.summary {
        let text = serde_json::to_string_pretty(&summary.json()).unwrap_or_default();
        std::fs::write(path, format!("{text}\n"))
            .map_err(|e| Failure::Usage(format!("--summary {}: cannot write it: {e}", path.display())))?;
    }
    Ok(if interrupted {
        ExitCode::from(INTERRUPTED)
    } else if tally.failed > 0 || read_failed.is_some() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
