//! What the command prints besides the answer: tool calls, usage and cost,
//! call summaries; colour only on a terminal and never with `NO_COLOR`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use maverick::ResponseMeta;
use serde_json::Value;

use crate::exit::{stdout_failed, Failure, PREFIX};

/// Whether a stream may carry ANSI colour: a terminal, `NO_COLOR` unset
/// or empty (<https://no-color.org>), and not `TERM=dumb`.
pub fn colour_for(is_terminal: bool) -> bool {
    is_terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// ANSI styling that turns itself off.
#[derive(Debug, Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    pub fn stdout() -> Paint {
        Paint(colour_for(std::io::stdout().is_terminal()))
    }

    pub fn stderr() -> Paint {
        Paint(colour_for(std::io::stderr().is_terminal()))
    }

    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }

    pub fn cyan(self, text: &str) -> String {
        self.wrap("36", text)
    }

    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
}

/// Writes to stdout and flushes; a closed pipe becomes [`Failure::Closed`].
pub fn out(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(stdout_failed)
}

/// A line on stderr; a closed stderr is not worth failing for.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Tokens and money for one call or a whole session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cost {
    pub prompt: Option<u64>,
    pub completion: Option<u64>,
    pub total: Option<u64>,
    pub credits: Option<f64>,
    pub usd: Option<f64>,
}

fn add_u(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

fn add_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Cost {
    /// From the body's `usage`, the billing headers, and the provider's
    /// `meta.usage` (AI/ML API) when the headers are missing.
    pub fn from_parts(usage: Option<Value>, meta: &ResponseMeta, provider_meta: Option<&Value>) -> Cost {
        let usage = usage.unwrap_or(Value::Null);
        let tokens = |name: &str| usage.get(name).and_then(Value::as_u64);
        let provider = |name: &str| {
            provider_meta
                .and_then(|m| m.get("usage"))
                .and_then(|u| u.get(name))
                .and_then(number)
        };
        let prompt = tokens("prompt_tokens");
        let completion = tokens("completion_tokens");
        Cost {
            prompt,
            completion,
            total: tokens("total_tokens").or_else(|| add_u(prompt, completion)),
            credits: meta.credits_used.or_else(|| provider("credits_used")),
            usd: meta.usd_spent.or_else(|| provider("usd_spent")),
        }
    }

    pub fn add(&mut self, other: &Cost) {
        self.prompt = add_u(self.prompt, other.prompt);
        self.completion = add_u(self.completion, other.completion);
        self.total = add_u(self.total, other.total);
        self.credits = add_f(self.credits, other.credits);
        self.usd = add_f(self.usd, other.usd);
    }

    /// `usage: 12 prompt + 8 completion = 20 tokens, 40 credits, $0.000021`
    pub fn line(&self, label: &str) -> String {
        let n = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
        let mut line = if self.prompt.is_none() && self.completion.is_none() && self.total.is_none() {
            format!("{label}: the host reported no token counts")
        } else {
            format!(
                "{label}: {} prompt + {} completion = {} tokens",
                n(self.prompt),
                n(self.completion),
                n(self.total)
            )
        };
        if let Some(credits) = self.credits {
            line.push_str(&format!(", {} credits", trim_float(credits)));
        }
        if let Some(usd) = self.usd {
            line.push_str(&format!(", ${}", trim_float(usd)));
        }
        line
    }
}

/// `40` rather than `40.0`; small amounts in plain decimals.
fn trim_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let text = format!("{v:.9}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// One call, as `-v` (or `RUST_LOG=maverick_cli=info`) shows it.
pub fn call_summary(base_url: &str, meta: &ResponseMeta, latency: Duration, first_byte: Option<Duration>) -> String {
    let attempts = meta.attempts.max(1);
    let mut line = format!(
        "POST {}/chat/completions: status {}, request id {}, {} attempt{}, {} ms",
        base_url.trim_end_matches('/'),
        meta.status,
        meta.request_id,
        attempts,
        if attempts == 1 { "" } else { "s" },
        latency.as_millis()
    );
    if let Some(first) = first_byte {
        line.push_str(&format!(" ({} ms to the first token)", first.as_millis()));
    }
    if let Some(id) = &meta.inference_id {
        line.push_str(&format!(", inference id {id}"));
    }
    line
}

/// Prints a call summary on stderr with `-v`, and hands it to `tracing`
/// either way, so `RUST_LOG` shows it too.
pub fn verbose(enabled: bool, line: &str) {
    tracing::info!(target: "maverick_cli", "{line}");
    if enabled {
        note(&format!("{PREFIX}{}", Paint::stderr().dim(line)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_reads_usage_headers_and_provider_meta() {
        let mut meta = ResponseMeta::default();
        meta.credits_used = Some(40.0);
        let usage = serde_json::json!({"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20});
        let provider = serde_json::json!({"usage": {"credits_used": 7, "usd_spent": "0.25"}});
        let c = Cost::from_parts(Some(usage), &meta, Some(&provider));
        assert_eq!(
            c.line("usage"),
            "usage: 12 prompt + 8 completion = 20 tokens, 40 credits, $0.25"
        );
        let mut sum = c.clone();
        sum.add(&c);
        assert_eq!(sum.total, Some(40));
        assert_eq!(
            Cost::default().line("usage"),
            "usage: the host reported no token counts"
        );
        assert_eq!(trim_float(0.000021), "0.000021");
    }
}
