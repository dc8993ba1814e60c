//! `maverick batch merge`: shard outputs joined into one file, with the
//! proof that each custom id is answered exactly once (and, given the
//! input, that every valid input line is).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::batch_file::{custom_id_of, each_line, id_hash, next_line, parse_entry, Line};
use crate::exit::{Failure, PREFIX};
use crate::output::note;

/// How many missing or repeated ids are named before the rest is counted.
const SHOW: usize = 10;

pub fn run(shards: &[std::path::PathBuf], output: &Path, input: Option<&Path>) -> Result<ExitCode, Failure> {
    // The joined file is built beside its target and renamed into place
    // only when every check passes.
    let partial = output.with_extension("merging");
    let mut out = BufWriter::new(
        File::create(&partial)
            .map_err(|e| Failure::Usage(format!("-o {}: cannot write beside it: {e}", output.display())))?,
    );
    let result = join(shards, &mut out, input);
    let flushed = out.into_inner().map_err(|e| e.into_error()).and_then(|f| f.sync_all());
    let problems = match (result, flushed) {
        (Ok(problems), Ok(())) => problems,
        (Err(failure), _) => {
            let _ = std::fs::remove_file(&partial);
            return Err(failure);
        }
        (Ok(_), Err(e)) => {
            let _ = std::fs::remove_file(&partial);
            return Err(Failure::Usage(format!("-o {}: cannot write it: {e}", output.display())));
        }
    };
    if problems.is_empty() {
        std::fs::rename(&partial, output)
            .map_err(|e| Failure::Usage(format!("-o {}: cannot write it: {e}", output.display())))?;
        return Ok(ExitCode::SUCCESS);
    }
    let _ = std::fs::remove_file(&partial);
    for problem in &problems {
        note(&format!("{PREFIX}{problem}"));
    }
    Err(Failure::Network(format!(
        "merge refused: {} problem{} (listed above); {} was not written",
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        output.display()
    )))
}

/// Copies every shard line to `out`; returns what is wrong, if anything.
fn join(shards: &[std::path::PathBuf], out: &mut impl Write, input: Option<&Path>) -> Result<Vec<String>, Failure> {
    let mut problems = Vec::new();
    // Where each id was first seen: shard index and line.
    let mut seen: HashMap<u128, (usize, u64)> = HashMap::new();
    let mut repeats = 0usize;
    let mut buf = Vec::new();
    for (index, path) in shards.iter().enumerate() {
        let shown = path.display().to_string();
        let mut reader =
            BufReader::new(File::open(path).map_err(|e| Failure::Usage(format!("{shown}: cannot read it: {e}")))?);
        let mut number = 0u64;
        while let Some(line) = next_line(&mut reader, &mut buf).map_err(|e| Failure::Usage(format!("{shown}: {e}")))? {
            number += 1;
            let (bytes, terminated) = match line {
                Line::Text { bytes, terminated } => (bytes, terminated),
                Line::TooLong { .. } => {
                    problems.push(format!("{shown}:{number}: the line is too long to be an output line"));
                    continue;
                }
            };
            let Some(id) = custom_id_of(&bytes) else {
                let hint = if terminated {
                    ""
                } else {
                    " (cut short: resume that shard's run first)"
                };
                problems.push(format!("{shown}:{number}: not a batch output line{hint}"));
                continue;
            };
            let hash = id_hash(&id);
            if let Some((first, line)) = seen.get(&hash) {
                repeats += 1;
                if repeats <= SHOW {
                    let first = shards.get(*first).map(|p| p.display().to_string()).unwrap_or_default();
                    problems.push(format!(
                        "{shown}:{number}: custom_id {id:?} is already answered at {first}:{line}"
                    ));
                }
                continue;
            }
            seen.insert(hash, (index, number));
            out.write_all(&bytes)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|e| Failure::Usage(format!("cannot write the merged file: {e}")))?;
        }
    }
    if repeats > SHOW {
        problems.push(format!("… and {} more repeated custom_ids", repeats - SHOW));
    }
    if let Some(input) = input {
        problems.extend(check_complete(input, &seen)?);
    }
    Ok(problems)
}

/// Every input line that a run sends (valid, with an id no other line
/// uses) must be answered, and every answer must belong to one.
fn check_complete(input: &Path, answered: &HashMap<u128, (usize, u64)>) -> Result<Vec<String>, Failure> {
    // First pass: which ids appear more than once (such lines are never sent).
    let mut ids: HashSet<u128> = HashSet::new();
    let mut repeated: HashSet<u128> = HashSet::new();
    each_line(input, "--input", |_, bytes| {
        if let Some(id) = custom_id_of(bytes) {
            let hash = id_hash(&id);
            if !ids.insert(hash) {
                repeated.insert(hash);
            }
        }
        true
    })?;
    drop(ids);
    // Second pass: the lines that were sent, each answered.
    let shown = input.display().to_string();
    let mut wanted: HashSet<u128> = HashSet::new();
    let mut missing = Vec::new();
    let mut missing_count = 0usize;
    each_line(input, "--input", |number, bytes| {
        let Ok(entry) = parse_entry(bytes) else { return true };
        let hash = id_hash(&entry.custom_id);
        if repeated.contains(&hash) {
            return true;
        }
        wanted.insert(hash);
        if !answered.contains_key(&hash) {
            missing_count += 1;
            if missing.len() < SHOW {
                missing.push(format!(
                    "{shown}:{number}: custom_id {:?} has no answer in any shard",
                    entry.custom_id
                ));
            }
        }
        true
    })?;
    if missing_count > SHOW {
        missing.push(format!("… and {} more unanswered lines", missing_count - SHOW));
    }
    let strangers = answered.keys().filter(|h| !wanted.contains(h)).count();
    if strangers > 0 {
        missing.push(format!(
            "{strangers} answer{} belong to no line of {shown} that a run would send",
            if strangers == 1 { "" } else { "s" }
        ));
    }
    Ok(missing)
}
