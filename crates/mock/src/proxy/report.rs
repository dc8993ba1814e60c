//! The drift report: what a run of traffic showed about the host, grouped so
//! a thousand identical chunk violations read as one line with a count.
//!
//! JSON format `maverick-drift-report/1` (stable; fields are only added):
//!
//! ```json
//! {
//!   "format": "maverick-drift-report/1",
//!   "exchanges": 3,            // requests forwarded
//!   "streamed": 2,             // of which answered with an event stream
//!   "upstream_errors": 0,      // answered with a non-2xx status, or not at all
//!   "verdict": "departs_from_published",  // or "client_would_break", "conforms"
//!   "ungrouped": 0,            // violations past 10,000 distinct groups, only counted
//!   "violations": [            // sorted by level, part, pointer, rule
//!     {"level": "published", "part": "chunk", "pointer": "/choices/0/finish_reason",
//!      "rule": "type", "count": 7,
//!      "first": {"exchange": "5f0c…-1.json", "event": 0, "message": "null is not of type \"string\"", "seen": "null"}}
//!   ]
//! }
//! ```
//!
//! `level` is `normalised` (the client would break) or `published` (the host
//! departs from the published contract; the client copes); `part` is
//! `request`, `response`, `chunk` or `framing`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use super::validate::{Finding, Level, Part};

/// The report's format tag.
pub const FORMAT: &str = "maverick-drift-report/1";

/// What a set of findings means for a user's CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// Nothing broke either document.
    Conforms,
    /// Only the published document was departed from: the client copes.
    DepartsFromPublished,
    /// The normalised document was broken: the client would fail.
    ClientWouldBreak,
}

impl Verdict {
    /// Exit code for `--fail-on-violation`: 0, 4 or 3, as `spec update
    /// --check` uses 3 for breaking and 4 for non-breaking drift.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Conforms => 0,
            Verdict::DepartsFromPublished => 4,
            Verdict::ClientWouldBreak => 3,
        }
    }
}

/// The first occurrence of a grouped violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    /// The exchange: its cassette file when recording, else `#N`.
    pub exchange: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<usize>,
    pub message: String,
    pub seen: String,
}

/// One (level, part, pointer, rule) with how often it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub level: Level,
    pub part: Part,
    pub pointer: String,
    pub rule: String,
    pub count: u64,
    pub first: Example,
}

type Key = (Level, Part, String, String);

/// Distinct groups kept. Pointers carry array indices, so a hostile host
/// could make new ones forever; past this, findings are only counted.
const MAX_GROUPS: usize = 10_000;

/// Counts and grouped violations; see the module documentation for the
/// JSON form.
#[derive(Debug, Clone, Default)]
pub struct DriftReport {
    exchanges: u64,
    streamed: u64,
    upstream_errors: u64,
    groups: BTreeMap<Key, Group>,
    /// Findings not grouped because [`MAX_GROUPS`] was reached.
    ungrouped: u64,
    /// Whether an ungrouped finding was at the normalised level.
    ungrouped_breaks: bool,
}

impl DriftReport {
    /// Counts one exchange.
    pub fn exchange(&mut self, streamed: bool, upstream_error: bool) {
        self.exchanges += 1;
        self.streamed += u64::from(streamed);
        self.upstream_errors += u64::from(upstream_error);
    }

    /// Adds the findings of one exchange.
    pub fn add(&mut self, exchange: &str, findings: impl IntoIterator<Item = Finding>) {
        for f in findings {
            let key = (f.level, f.part, f.pointer.clone(), f.rule.clone());
            if self.groups.len() >= MAX_GROUPS && !self.groups.contains_key(&key) {
                self.ungrouped = self.ungrouped.saturating_add(1);
                self.ungrouped_breaks |= f.level == Level::Normalised;
                continue;
            }
            self.groups
                .entry(key)
                .and_modify(|g| g.count = g.count.saturating_add(1))
                .or_insert_with(|| Group {
                    level: f.level,
                    part: f.part,
                    pointer: f.pointer,
                    rule: f.rule,
                    count: 1,
                    first: Example {
                        exchange: exchange.to_string(),
                        event: f.event,
                        message: f.message,
                        seen: f.seen,
                    },
                });
        }
    }

    /// Exchanges seen.
    pub fn exchanges(&self) -> u64 {
        self.exchanges
    }

    /// Grouped violations, sorted by level (normalised first), part, pointer, rule.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// Whether the client would break, only the published contract was
    /// departed from, or neither.
    pub fn verdict(&self) -> Verdict {
        let has = |level| self.groups.values().any(|g| g.level == level);
        if has(Level::Normalised) || self.ungrouped_breaks {
            Verdict::ClientWouldBreak
        } else if has(Level::Published) {
            Verdict::DepartsFromPublished
        } else {
            Verdict::Conforms
        }
    }

    /// The stable JSON form (`maverick-drift-report/1`).
    pub fn to_json(&self) -> Value {
        json!({
            "format": FORMAT,
            "exchanges": self.exchanges,
            "streamed": self.streamed,
            "upstream_errors": self.upstream_errors,
            "verdict": self.verdict(),
            "violations": self.groups.values().collect::<Vec<_>>(),
            "ungrouped": self.ungrouped,
        })
    }

    /// The report for people: one line per group under its level.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "drift report: {} exchanges ({} streamed, {} upstream errors)\n",
            self.exchanges, self.streamed, self.upstream_errors
        );
        for level in Level::ALL {
            let groups: Vec<&Group> = self.groups.values().filter(|g| g.level == level).collect();
            let total: u64 = groups.iter().map(|g| g.count).sum();
            out.push_str(&format!(
                "{}: {} violations of {} rules\n",
                level.meaning(),
                total,
                groups.len()
            ));
            for g in groups {
                let at = if g.pointer.is_empty() { "/" } else { &g.pointer };
                let event = g.first.event.map(|e| format!(" event {e}")).unwrap_or_default();
                out.push_str(&format!(
                    "  {} {at} [{}] x{}: first in {}{event}: {} (seen: {})\n",
                    g.part.name(),
                    g.rule,
                    g.count,
                    g.first.exchange,
                    g.first.message,
                    g.first.seen
                ));
            }
        }
        if self.ungrouped > 0 {
            out.push_str(&format!(
                "{} more violations not grouped (over {MAX_GROUPS} distinct places)\n",
                self.ungrouped
            ));
        }
        out.push_str(match self.verdict() {
            Verdict::Conforms => "verdict: conforms to both documents\n",
            Verdict::DepartsFromPublished => "verdict: departs from the published document; the client copes\n",
            Verdict::ClientWouldBreak => "verdict: the client would break\n",
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(level: Level, pointer: String) -> Finding {
        Finding {
            level,
            part: Part::Chunk,
            pointer,
            rule: "type".into(),
            message: "m".into(),
            seen: "null".into(),
            event: Some(0),
        }
    }

    #[test]
    fn groups_count_and_stop_growing_at_the_cap() {
        let mut r = DriftReport::default();
        r.exchange(true, false);
        r.add("#1", (0..3).map(|_| finding(Level::Published, "/choices/0".into())));
        assert_eq!(r.groups().count(), 1);
        assert_eq!(r.groups().next().map(|g| g.count), Some(3));
        assert_eq!(r.verdict(), Verdict::DepartsFromPublished);

        r.add(
            "#2",
            (0..MAX_GROUPS + 5).map(|i| finding(Level::Published, format!("/choices/{i}"))),
        );
        assert_eq!(r.groups().count(), MAX_GROUPS);
        assert_eq!(r.to_json()["ungrouped"], 5);
        assert_eq!(r.verdict(), Verdict::DepartsFromPublished);
        // A break that arrives past the cap still decides the verdict.
        r.add("#3", [finding(Level::Normalised, "/x".into())]);
        assert_eq!(r.verdict(), Verdict::ClientWouldBreak);
        assert_eq!(r.verdict().exit_code(), 3);
        assert!(r.to_text().contains("6 more violations not grouped"));
    }
}
