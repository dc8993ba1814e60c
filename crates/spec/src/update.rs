//! The decisions behind `maverick spec update`, kept free of I/O other than
//! the final write so that they can be tested without a network.
//!
//! A candidate document replaces the project's spec only if the build would
//! accept it: it must parse, normalise and meet every requirement of the
//! handwritten wrapper ([`crate::requirements`]). Otherwise the next
//! `cargo build` would fail far from the command that caused it.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::diff::{diff, Diff};
use crate::{normalize, requirements, SpecError};

/// How far the candidate is from the current spec, for `--check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drift {
    /// Identical contract; documentation may differ (reported, not failed).
    InSync,
    /// Something a user of the library would have to act on.
    Breaking,
    /// Only additions and loosenings.
    NonBreaking,
}

impl Drift {
    /// The exit status of `maverick spec update --check`: 0, 3 or 4, so a
    /// scheduled CI job can tell "update when convenient" from "read first".
    pub fn exit_code(self) -> u8 {
        match self {
            Drift::InSync => 0,
            Drift::Breaking => 3,
            Drift::NonBreaking => 4,
        }
    }

    /// The verdict for a diff: breaking if any change is, else non-breaking
    /// if any change is, else in sync.
    pub fn of(diff: &Diff) -> Drift {
        if diff.summary.breaking > 0 {
            Drift::Breaking
        } else if diff.summary.non_breaking > 0 {
            Drift::NonBreaking
        } else {
            Drift::InSync
        }
    }
}

/// Why a candidate (or the current spec) cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The candidate does not parse as JSON (often an HTML page was fetched).
    #[error("{label} is not JSON: {source} (is it the raw OpenAPI file and not an HTML page?)")]
    NotJson {
        /// The file path or URL the text came from.
        label: String,
        /// The JSON parser's error, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The normaliser refuses the document: it has a shape no rewrite covers.
    #[error("{label} cannot be used: {source} (the normaliser would need a rewrite for it; see spec/README.md)")]
    Rejected {
        /// The file path or URL the document came from.
        label: String,
        /// Where the normaliser stopped, and why.
        #[source]
        source: SpecError,
    },
    /// The document normalises, but lacks something the handwritten wrapper
    /// uses, so the library would not build from it.
    #[error(
        "{label} lacks what the handwritten wrapper relies on, so the library would not build:\n{}",
        .missing.iter().map(|m| format!("    - {m}")).collect::<Vec<_>>().join("\n")
    )]
    MissingNeeds {
        /// The file path or URL the document came from.
        label: String,
        /// One line per missing schema, field or value.
        missing: Vec<String>,
    },
}

/// What `update` found: the diff to print and the verdict for `--check`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The semantic diff from the current spec to the candidate.
    pub diff: Diff,
    /// The verdict `--check` turns into an exit code.
    pub drift: Drift,
    /// True when the candidate's bytes equal the current file: nothing to write.
    pub identical_text: bool,
}

/// Checks that `text` is a document the build accepts, returning it parsed.
pub fn validate(label: &str, text: &str) -> Result<Value, UpdateError> {
    let doc: Value = serde_json::from_str(text).map_err(|source| UpdateError::NotJson {
        label: label.into(),
        source,
    })?;
    let normalized = normalize(doc.clone()).map_err(|source| UpdateError::Rejected {
        label: label.into(),
        source,
    })?;
    requirements::check(&normalized).map_err(|missing| UpdateError::MissingNeeds {
        label: label.into(),
        missing,
    })?;
    Ok(doc)
}

/// Compares the candidate with the current spec. Only the candidate must be
/// usable: the current file may be one the build already rejects, and
/// replacing it is the point of the update.
pub fn plan(
    current_label: &str,
    current_text: &str,
    candidate_label: &str,
    candidate_text: &str,
) -> Result<Plan, UpdateError> {
    let candidate = validate(candidate_label, candidate_text)?;
    let current: Value = serde_json::from_str(current_text).map_err(|source| UpdateError::NotJson {
        label: current_label.into(),
        source,
    })?;
    let diff = diff(current_label, &current, candidate_label, &candidate);
    Ok(Plan {
        drift: Drift::of(&diff),
        identical_text: current_text == candidate_text,
        diff,
    })
}

/// Replaces `path` with `contents` so that readers (a concurrent `cargo
/// build`) see the old file or the new one, never half of each: write a
/// sibling temporary file, flush it to disk, rename it over the target.
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display())))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(
        ".{}.{}-{nanos}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Drift::InSync => "in sync (documentation may differ)",
            Drift::Breaking => "breaking drift",
            Drift::NonBreaking => "non-breaking drift",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Our own spec with one path (the build guard's requirements are
    /// many; a hand-made fixture would repeat them), a given summary and
    /// optionally one more request property.
    fn complete(extra_request_field: Option<(&str, Value)>, summary: &str) -> String {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/llama-4-maverick.json")).unwrap();
        let mut doc: Value = serde_json::from_str(&text).unwrap();
        doc["paths"]
            .as_object_mut()
            .unwrap()
            .retain(|p, _| p == "/v1/chat/completions");
        let op = &mut doc["paths"]["/v1/chat/completions"]["post"];
        op["summary"] = json!(summary);
        if let Some((k, v)) = extra_request_field {
            op["requestBody"]["content"]["application/json"]["schema"]["properties"][k] = v;
        }
        doc.to_string()
    }

    #[test]
    fn the_fixture_meets_every_requirement() {
        validate("fixture", &complete(None, "s")).unwrap();
    }

    #[test]
    fn drift_decides_the_check_exit_code() {
        let current = complete(None, "Chat");
        let same = plan("cur", &current, "cand", &current).unwrap();
        assert_eq!(
            (same.drift, same.drift.exit_code(), same.identical_text),
            (Drift::InSync, 0, true)
        );

        let docs = plan("cur", &current, "cand", &complete(None, "Chat completions")).unwrap();
        assert_eq!(
            (docs.drift, docs.drift.exit_code(), docs.identical_text),
            (Drift::InSync, 0, false)
        );
        assert_eq!(docs.diff.summary.docs_only, 1);

        let added = complete(Some(("x_probe", json!({"type": "integer"}))), "Chat");
        let more = plan("cur", &current, "cand", &added).unwrap();
        assert_eq!((more.drift, more.drift.exit_code()), (Drift::NonBreaking, 4));
        let fewer = plan("cur", &added, "cand", &current).unwrap();
        assert_eq!((fewer.drift, fewer.drift.exit_code()), (Drift::Breaking, 3));
    }

    #[test]
    fn unusable_candidates_are_refused_with_what_to_fix() {
        let current = complete(None, "Chat");
        let err = plan("cur", &current, "cand", "<html>").unwrap_err();
        assert!(
            matches!(err, UpdateError::NotJson { .. }) && err.to_string().contains("cand is not JSON"),
            "{err}"
        );

        let mut no_path: Value = serde_json::from_str(&current).unwrap();
        let item = no_path["paths"]["/v1/chat/completions"].take();
        no_path["paths"] = json!({"/openai/deployments/{model}": item});
        let err = plan("cur", &current, "cand", &no_path.to_string()).unwrap_err();
        assert!(err.to_string().contains("no chat completions operation"), "{err}");

        let mut no_chunk: Value = serde_json::from_str(&current).unwrap();
        no_chunk["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
            .as_object_mut()
            .unwrap()
            .remove("text/event-stream");
        let err = plan("cur", &current, "cand", &no_chunk.to_string()).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, UpdateError::MissingNeeds { .. }) && text.contains("stream chunks"),
            "{text}"
        );
    }

    #[test]
    fn atomic_write_replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!(
            "maverick-spec-update-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("spec.json");
        fs::write(&target, "old").unwrap();
        write_atomically(&target, b"new").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        let names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["spec.json".to_string()]);
        let err = write_atomically(&dir.join("missing-dir/spec.json"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        fs::remove_dir_all(&dir).unwrap();
    }
}
