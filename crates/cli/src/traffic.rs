//! `maverick spec check-traffic DIR`: the proxy's validation over recorded
//! cassettes, and for each departure from the published document whether
//! the normaliser already absorbs it, with the quirk-table row that does.
//!
//! Exit codes: 0 when every departure is absorbed (the client copes with
//! all recorded traffic), 3 when some traffic breaks the normalised
//! document (the client would break), 2 for an unreadable directory.

use std::collections::BTreeMap;
use std::path::Path;

use maverick_mock::cassette::Cassette;
use maverick_mock::proxy::check::{absorbed, check_cassette};
use maverick_mock::{Finding, Level, Part};
use serde_json::{json, Value};

/// The quirk table, read at build time so the binary can cite it.
const QUIRKS: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/README.md"));

/// Format tag of `--json` output.
pub const FORMAT: &str = "maverick-check-traffic/1";

#[derive(Default)]
struct Row {
    count: u64,
    absorbed: u64,
    first: Option<(String, Finding)>,
}

/// Runs the check; returns the exit code, or a usage message.
pub fn run(dir: &Path, as_json: bool) -> Result<u8, String> {
    let cassettes = Cassette::read_dir(dir)?;
    let mut rows: BTreeMap<(Level, Part, String, String), Row> = BTreeMap::new();
    for (name, cassette) in &cassettes {
        let found = check_cassette(cassette);
        for f in &found {
            // A normalised finding is always "not absorbed": it is the break itself.
            let is_absorbed = f.level == Level::Published && absorbed(f, &found);
            let row = rows
                .entry((f.level, f.part, f.pointer.clone(), f.rule.clone()))
                .or_default();
            row.count += 1;
            row.absorbed += u64::from(is_absorbed);
            if row.first.is_none() {
                row.first = Some((name.clone(), f.clone()));
            }
        }
    }
    let breaks = rows.keys().any(|(level, ..)| *level == Level::Normalised);
    if as_json {
        let list: Vec<Value> = rows
            .iter()
            .map(|((level, part, pointer, rule), row)| {
                let first = row.first.as_ref().map(|(exchange, f)| {
                    json!({"exchange": exchange, "event": f.event, "message": f.message, "seen": f.seen})
                });
                json!({
                    "level": level, "part": part, "pointer": pointer, "rule": rule,
                    "count": row.count, "absorbed": row.absorbed,
                    "quirk": row.first.as_ref().and_then(|(_, f)| quirk_row(*part, pointer, rule, &f.message)),
                    "first": first,
                })
            })
            .collect();
        let out =
            json!({"format": FORMAT, "cassettes": cassettes.len(), "client_would_break": breaks, "violations": list});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        print!("{}", text(dir, cassettes.len(), &rows));
    }
    Ok(if breaks { 3 } else { 0 })
}

fn text(dir: &Path, cassettes: usize, rows: &BTreeMap<(Level, Part, String, String), Row>) -> String {
    let mut out = format!("{cassettes} cassettes in {}\n", dir.display());
    for level in Level::ALL {
        let mine: Vec<_> = rows.iter().filter(|((l, ..), _)| *l == level).collect();
        out.push_str(&format!("{}: {} rules broken\n", level.meaning(), mine.len()));
        for ((_, part, pointer, rule), row) in mine {
            let at = if pointer.is_empty() { "/" } else { pointer };
            if let Some((exchange, first)) = &row.first {
                out.push_str(&format!(
                    "  {} {at} [{rule}] x{}: first in {exchange}: {} (seen: {})\n",
                    part.name(),
                    row.count,
                    first.message,
                    first.seen
                ));
            }
            if level == Level::Normalised {
                continue;
            }
            let verdict = if row.absorbed == row.count {
                "absorbed by the normaliser".to_string()
            } else {
                format!(
                    "NOT absorbed in {} of {}: the normalised document rejects it too",
                    row.count - row.absorbed,
                    row.count
                )
            };
            let message = row.first.as_ref().map(|(_, f)| f.message.as_str()).unwrap_or_default();
            match quirk_row(*part, pointer, rule, message) {
                Some(q) if row.absorbed > 0 => out.push_str(&format!("    {verdict}; quirk table: {q}\n")),
                _ => out.push_str(&format!("    {verdict}\n")),
            }
        }
    }
    out
}

/// The first cell of the quirk-table row that most likely covers this
/// departure: in the section for the part, the row naming the field (the
/// pointer's last name) in backticks, else the rule; else anywhere.
fn quirk_row(part: Part, pointer: &str, rule: &str, message: &str) -> Option<String> {
    let section = match part {
        Part::Request => "### Request",
        Part::Response => "### Response",
        Part::Chunk | Part::Framing => "### Stream chunk",
        _ => "### Null",
    };
    // `required` is reported at the parent; the missing name is in the message.
    let missing = (rule == "required").then(|| message.split('"').nth(1)).flatten();
    let field = missing.or_else(|| pointer.rsplit('/').find(|s| !s.is_empty() && s.parse::<u64>().is_err()));
    let keys: Vec<String> = field
        .map(|f| format!("{f}`"))
        .into_iter()
        .chain(std::iter::once(format!("`{rule}")))
        .collect();
    let rows_in = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| upstream says") && !l.starts_with("|---"))
            .map(str::to_string)
            .collect()
    };
    let in_section = QUIRKS
        .split_once(section)
        .map(|(_, rest)| rest.split("\n### ").next().unwrap_or_default().to_string())
        .unwrap_or_default();
    for rows in [rows_in(&in_section), rows_in(QUIRKS)] {
        for key in &keys {
            if let Some(row) = rows.iter().find(|r| r.contains(key.as_str())) {
                let cell = row.trim_start_matches("| ").split(" | ").next().unwrap_or_default();
                let first_sentence = cell.split(". ").next().unwrap_or(cell);
                return Some(format!("{} \"{first_sentence}\"", section.trim_start_matches("### ")));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_fields_find_their_quirk_rows() {
        let row = quirk_row(
            Part::Chunk,
            "/choices/0/finish_reason",
            "type",
            "null is not of type \"string\"",
        )
        .unwrap();
        assert!(row.contains("finish_reason"), "{row}");
        let row = quirk_row(Part::Chunk, "/choices/0/delta/content", "type", "").unwrap();
        assert!(row.contains("delta.content"), "{row}");
        let row = quirk_row(
            Part::Chunk,
            "/choices/0/delta",
            "required",
            "\"role\" is a required property",
        )
        .unwrap();
        assert!(row.contains("delta.role"), "{row}");
        let row = quirk_row(Part::Response, "/choices/0/message/content", "type", "").unwrap();
        assert!(row.starts_with("Response"), "{row}");
    }
}
