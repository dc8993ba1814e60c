//! How a batch reports itself on stderr: a redrawn bar on a terminal, a
//! plain status line every few seconds anywhere else (a log, CI), and the
//! final summary, also as JSON for `--summary FILE`.

use std::io::Write;
use std::time::{Duration, Instant};

use maverick::{BatchStats, ChatResponse, Error};
use serde_json::{json, Value};

use crate::exit::PREFIX;
use crate::output::Cost;

/// How often the plain status line is written off a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// How often the bar is redrawn on a terminal.
pub const BAR_EVERY: Duration = Duration::from_millis(200);

/// Counts of one run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Lines read from the input.
    pub lines: u64,
    /// Lines of this shard (all of them without `--shard`).
    pub in_shard: u64,
    pub invalid: u64,
    pub already_answered: u64,
    /// Requests this run set out to send.
    pub todo: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cost: Cost,
}

impl Tally {
    pub fn done(&self) -> u64 {
        self.succeeded + self.failed
    }

    /// Counts one answer and what it cost.
    pub fn record(&mut self, result: &Result<ChatResponse, Error>) {
        match result {
            Ok(response) => {
                self.succeeded += 1;
                let cost = Cost::from_parts(
                    response.usage().and_then(|u| serde_json::to_value(u).ok()),
                    &response.meta,
                    response.raw_json().as_ref().and_then(|v| v.get("meta")),
                );
                self.cost.add(&cost);
            }
            Err(_) => self.failed += 1,
        }
    }
}

/// Draws progress while the batch runs.
#[derive(Debug)]
pub struct Progress {
    terminal: bool,
    started: Instant,
    last: Instant,
    drawn: bool,
}

fn rate(count: f64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        count / secs
    } else {
        0.0
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn short(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{:.1}M", v / 1e6),
        v if v >= 1e4 => format!("{:.1}k", v / 1e3),
        v if v.fract() == 0.0 => format!("{v:.0}"),
        v => format!("{v:.1}"),
    }
}

impl Progress {
    pub fn new(terminal: bool) -> Self {
        let now = Instant::now();
        Progress {
            terminal,
            started: now,
            last: now,
            drawn: false,
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// How often [`tick`](Self::tick) is worth calling.
    pub fn every(&self) -> Duration {
        if self.terminal {
            BAR_EVERY
        } else {
            PLAIN_EVERY
        }
    }

    /// `120/1000 · 2 errors · 35.2 req/s · 1.2k tok/s · ETA 25s · 240 credits · $0.00012`
    fn status(&self, tally: &Tally, stats: &BatchStats, in_flight: usize) -> String {
        let elapsed = self.elapsed();
        let done = tally.done();
        let per_sec = rate(done as f64, elapsed);
        let mut line = format!(
            "{done}/{} · {} error{} · {} req/s · {} tok/s",
            tally.todo,
            tally.failed,
            if tally.failed == 1 { "" } else { "s" },
            short(per_sec),
            short(rate(tally.cost.total.unwrap_or(0) as f64, elapsed)),
        );
        let left = tally.todo.saturating_sub(done);
        if per_sec > 0.0 && left > 0 {
            let eta = Duration::try_from_secs_f64(left as f64 / per_sec).unwrap_or(Duration::MAX);
            line.push_str(&format!(" · ETA {}", clock(eta)));
        }
        if let Some(credits) = tally.cost.credits {
            line.push_str(&format!(" · {} credits", short(credits)));
        }
        if let Some(usd) = tally.cost.usd {
            line.push_str(&format!(" · ${usd:.6}"));
        }
        if stats.rate_limited > 0 {
            line.push_str(&format!(
                " · {} rate-limited, {in_flight} in flight (window {})",
                stats.rate_limited, stats.window
            ));
        }
        line
    }

    /// Redraws the bar, or writes the plain line when it is due.
    pub fn tick(&mut self, tally: &Tally, stats: &BatchStats, in_flight: usize) {
        let now = Instant::now();
        if !self.terminal && now.duration_since(self.last) < PLAIN_EVERY {
            return;
        }
        self.last = now;
        let status = self.status(tally, stats, in_flight);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            const WIDTH: u64 = 24;
            let filled = (tally.done() * WIDTH)
                .checked_div(tally.todo)
                .unwrap_or(WIDTH)
                .min(WIDTH);
            let bar = format!(
                "[{}{}]",
                "#".repeat(filled as usize),
                ".".repeat((WIDTH - filled) as usize)
            );
            let _ = write!(err, "\r\x1b[2K{bar} {status}");
            self.drawn = true;
        } else {
            let _ = writeln!(err, "{PREFIX}batch {status}");
        }
        let _ = err.flush();
    }

    /// Clears the bar before other lines are written.
    pub fn clear(&mut self) {
        if self.drawn {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
            self.drawn = false;
        }
    }
}

/// Everything a run did, for `--summary FILE` and the last line on stderr.
#[derive(Debug)]
pub struct Summary<'a> {
    pub tally: &'a Tally,
    pub stats: BatchStats,
    pub elapsed: Duration,
    pub interrupted: bool,
    pub input: &'a str,
    pub output: &'a str,
    pub shard: Option<String>,
}

impl Summary<'_> {
    pub fn unanswered(&self) -> u64 {
        self.tally.todo.saturating_sub(self.tally.done())
    }

    pub fn json(&self) -> Value {
        let t = self.tally;
        json!({
            "input": self.input,
            "output": self.output,
            "shard": self.shard,
            "lines": t.lines,
            "in_shard": t.in_shard,
            "invalid_skipped": t.invalid,
            "already_answered": t.already_answered,
            "requested": t.todo,
            "succeeded": t.succeeded,
            "failed": t.failed,
            "unanswered": self.unanswered(),
            "interrupted": self.interrupted,
            "attempts": self.stats.attempts,
            "retries": self.stats.retries,
            "rate_limited": self.stats.rate_limited,
            "tokens": {
                "prompt": t.cost.prompt.unwrap_or(0),
                "completion": t.cost.completion.unwrap_or(0),
                "total": t.cost.total.unwrap_or(0),
            },
            "credits": t.cost.credits,
            // Sums of many small amounts: rounded to the nano-dollar.
            "usd": t.cost.usd.map(|usd| (usd * 1e9).round() / 1e9),
            "wall_seconds": (self.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        })
    }

    /// `batch: 998 succeeded, 2 failed of 1000 in 28.1 s; ...`
    pub fn line(&self) -> String {
        let t = self.tally;
        let mut line = format!(
            "batch {}: {} succeeded, {} failed of {} in {:.1} s",
            if self.interrupted { "interrupted" } else { "done" },
            t.succeeded,
            t.failed,
            t.todo,
            self.elapsed.as_secs_f64()
        );
        if self.unanswered() > 0 {
            line.push_str(&format!(
                "; {} not answered (run the same command again to finish)",
                self.unanswered()
            ));
        }
        if t.already_answered > 0 {
            line.push_str(&format!("; {} answered before", t.already_answered));
        }
        if t.invalid > 0 {
            line.push_str(&format!("; {} invalid lines skipped", t.invalid));
        }
        line.push_str(&format!(
            "; {} retries, {} rate-limited; {}",
            self.stats.retries,
            self.stats.rate_limited,
            t.cost.line("usage")
        ));
        line
    }
}
