//! Checks one exchange against two documents: the normalised one the client
//! is generated from (a violation means the client would break) and the one
//! the provider publishes (a violation means the host departs from what it
//! promises, which the normaliser absorbs, so the client copes).

use serde::Serialize;
use serde_json::Value;

use crate::contract::{excerpt, Contract, Violation};

/// Which document a finding is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Level {
    /// The normalised document the client is generated from: the client
    /// would break on this.
    Normalised,
    /// The document as published: the host departs from its contract, and
    /// the client copes because the normaliser relaxed the rule.
    Published,
}

impl Level {
    /// Both levels, the one that matters most first.
    pub const ALL: [Level; 2] = [Level::Normalised, Level::Published];

    /// What a finding at this level means for a user.
    pub fn meaning(self) -> &'static str {
        match self {
            Level::Normalised => "the client would break (normalised document)",
            Level::Published => "the host departs from the published document (the client copes)",
        }
    }

    fn contract(self) -> &'static Contract {
        match self {
            Level::Normalised => Contract::bundled(),
            Level::Published => Contract::published(),
        }
    }
}

/// Which part of an exchange a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part {
    /// The request body.
    Request,
    /// A JSON response body.
    Response,
    /// One `data:` event of a stream, as a chunk.
    Chunk,
    /// The event stream's framing: `data:` lines, `[DONE]`, the usage chunk.
    Framing,
}

impl Part {
    /// The name reports use.
    pub fn name(self) -> &'static str {
        match self {
            Part::Request => "request",
            Part::Response => "response",
            Part::Chunk => "chunk",
            Part::Framing => "framing",
        }
    }
}

/// One rule broken at one place in one exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    pub level: Level,
    pub part: Part,
    /// JSON pointer into the request, response or chunk (`""` for the whole).
    pub pointer: String,
    /// The schema keyword broken (`required`, `type`, `enum`…), or a framing
    /// rule (`json`, `done`, `after-done`, `usage`, `complete`).
    pub rule: String,
    /// What is wrong, in words.
    pub message: String,
    /// The value seen, compact JSON, truncated.
    pub seen: String,
    /// The event's index for chunk and framing findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<usize>,
}

impl Finding {
    fn from_violation(level: Level, part: Part, v: Violation, event: Option<usize>) -> Finding {
        Finding {
            level,
            part,
            pointer: v.pointer,
            rule: v.rule,
            message: v.message,
            seen: v.seen,
            event,
        }
    }

    /// An event too large to split: the rest of the stream went through unchecked.
    pub(crate) fn framing_size(limit: usize) -> Finding {
        Finding::framing(
            Level::Published,
            "size",
            format!("an event larger than {limit} bytes; the rest of the stream was passed on unchecked"),
            String::new(),
            None,
        )
    }

    fn framing(level: Level, rule: &str, message: String, seen: String, event: Option<usize>) -> Finding {
        Finding {
            level,
            part: Part::Framing,
            pointer: String::new(),
            rule: rule.to_string(),
            message,
            seen,
            event,
        }
    }
}

fn both(part: Part, event: Option<usize>, check: impl Fn(&Contract) -> Vec<Violation>) -> Vec<Finding> {
    Level::ALL
        .iter()
        .flat_map(|level| {
            check(level.contract())
                .into_iter()
                .map(move |v| Finding::from_violation(*level, part, v, event))
        })
        .collect()
}

/// A request body against both request schemas. A body that is not JSON
/// breaks both.
pub fn check_request(body: &Value) -> Vec<Finding> {
    both(Part::Request, None, |c| c.check_request(body))
}

/// A successful JSON response body against both response schemas.
pub fn check_response(body: &Value) -> Vec<Finding> {
    both(Part::Response, None, |c| c.check_response(body))
}

/// A body that should be JSON and is not: every client fails on it.
pub fn not_json(part: Part, text: &str, error: &serde_json::Error) -> Vec<Finding> {
    Level::ALL
        .iter()
        .map(|level| Finding {
            level: *level,
            part,
            pointer: String::new(),
            rule: "json".into(),
            message: format!("not JSON: {error}"),
            seen: excerpt(&Value::String(text.to_string())),
            event: None,
        })
        .collect()
}

/// Whether the request asked for a usage chunk at the end of its stream.
pub fn wants_usage(request: &Value) -> bool {
    request.pointer("/stream_options/include_usage") == Some(&Value::Bool(true))
}

/// Checks a stream event by event, then its framing as a whole.
#[derive(Debug, Default)]
pub struct StreamCheck {
    wants_usage: bool,
    events: usize,
    done: bool,
    usage_seen: bool,
}

impl StreamCheck {
    /// A check for the stream answering `request`.
    pub fn new(request: Option<&Value>) -> Self {
        StreamCheck {
            wants_usage: request.is_some_and(wants_usage),
            ..StreamCheck::default()
        }
    }

    /// One event's `data` (events without data, such as keep-alives, are
    /// not passed here).
    pub fn data(&mut self, data: &str) -> Vec<Finding> {
        let index = self.events;
        self.events += 1;
        let mut found = Vec::new();
        if self.done {
            found.push(Finding::framing(
                Level::Published,
                "after-done",
                "an event after `data: [DONE]`; clients stop reading at [DONE] and never see it".into(),
                excerpt(&Value::String(data.to_string())),
                Some(index),
            ));
        }
        if data == "[DONE]" {
            self.done = true;
            return found;
        }
        match serde_json::from_str::<Value>(data) {
            Ok(chunk) => {
                if chunk.get("usage").is_some_and(|u| !u.is_null()) {
                    self.usage_seen = true;
                }
                found.extend(self.chunk(&chunk, index));
            }
            Err(e) => found.extend(Level::ALL.iter().map(|level| {
                Finding::framing(
                    *level,
                    "json",
                    format!("the event's data is neither JSON nor [DONE]: {e}"),
                    excerpt(&Value::String(data.to_string())),
                    Some(index),
                )
            })),
        }
        found
    }

    /// One parsed chunk (for callers that hold chunks, not text).
    pub fn chunk(&self, chunk: &Value, index: usize) -> Vec<Finding> {
        both(Part::Chunk, Some(index), |c| c.check_chunk(chunk))
    }

    /// Framing of the stream as a whole, once it ended. `complete` is false
    /// when the connection failed or the stream ended mid-event.
    pub fn finish(self, complete: bool) -> Vec<Finding> {
        let mut found = Vec::new();
        if !complete {
            found.push(Finding::framing(
                Level::Normalised,
                "complete",
                "the stream broke off (connection error or an unfinished event); the client reports it interrupted"
                    .into(),
                format!("{} events", self.events),
                None,
            ));
        } else if !self.done {
            found.push(Finding::framing(
                Level::Published,
                "done",
                "the stream ended without `data: [DONE]`; the client accepts a clean end of stream".into(),
                format!("{} events", self.events),
                None,
            ));
        }
        if self.wants_usage && !self.usage_seen && complete {
            found.push(Finding::framing(
                Level::Published,
                "usage",
                "stream_options.include_usage was asked for, but no chunk carried `usage`".into(),
                format!("{} events", self.events),
                None,
            ));
        }
        found
    }
}
