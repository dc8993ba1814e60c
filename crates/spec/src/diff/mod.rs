//! A semantic diff of two published documents: what an update means for code
//! built on this library, not which lines of JSON moved.
//!
//! Both documents go through [`crate::normalize`] first, so the diff compares
//! the contract the client is generated from (integer fixes, relaxed response
//! fields, fixed component names) instead of the provider's layout churn
//! (`$ref` components vs inline schemas, duplicate paths). Operation-level
//! facts the normaliser folds away (paths, operationIds, success status
//! codes, summaries, code samples) are read from the raw documents.
//!
//! # Classes
//!
//! Each change is judged from the side of a program using this library:
//!
//! * `breaking`: code that compiled and worked may stop doing so: a request
//!   field, enum value or variant removed; a new required request field; a
//!   request bound tightened; a type change; a response field removed, made
//!   optional or nullable; the operation removed.
//! * `non-breaking`: new capability only: new optional request fields, new
//!   request enum values or variants, loosened request bounds, new response
//!   fields, new values or variants in a response (the regenerated client
//!   decodes them; the current one refuses them, which is why a provider's
//!   additive release is worth taking soon), a renamed operationId (the
//!   generated method keeps its fixed name), a different 2xx status (any
//!   2xx is success).
//! * `docs-only`: descriptions, summaries, code samples, tags.
//!
//! A document the normaliser refuses is not an error here: the diff reports
//! what disappeared (typically `operation_removed`), because "the new version
//! is unusable" is exactly what a user must see before updating.
//!
//! # Semver impact
//!
//! Every diff states what regenerating the client from the new document
//! means for the crate's version (`major`, `minor` or `patch`), derived from
//! the change list by the rule in [`semver`]: breaking → major, additions to
//! the generated types → minor, documentation only → patch.
//!
//! # Text and markdown
//!
//! [`Diff::render_text`] is for a terminal; [`Diff::render_markdown`]
//! (`maverick spec diff --format markdown`) is a pull request description:
//! a verdict, the semver line, a count table and the changes per class.
//!
//! # JSON output (stable; scripts consume it)
//!
//! ```text
//! {
//!   "old": "<label of the old document>",
//!   "new": "<label of the new document>",
//!   "summary": {"breaking": N, "non_breaking": N, "docs_only": N},
//!   "semver": {"impact": "major" | "minor" | "patch", "reason": "..."},
//!   "changes": [
//!     {"kind": "field_removed", "class": "breaking",
//!      "location": "/components/schemas/ChatCompletionRequest/properties/top_k",
//!      "reason": "request field top_k removed: code setting it no longer compiles"}
//!   ]
//! }
//! ```
//!
//! * `kind` is one of the snake_case names of [`ChangeKind`]; new kinds may
//!   be added, existing names never change meaning.
//! * `class` is `breaking`, `non-breaking` or `docs-only`.
//! * `location` is a JSON pointer. Schema changes point into the
//!   *normalised* document (the new one, or the old one for what was
//!   removed); operation changes (`operation_*`, `success_status_changed`,
//!   `parameter_*`, `operation_docs_changed`, `security_changed`) point
//!   into the *published* document.
//! * `reason` is one line for a human; its wording may improve over time.
//! * `semver` (added after the first release of this format) is the crate's
//!   version bump if the client is regenerated from the new document; the
//!   rule is in [`semver`].
//! * `changes` is sorted by class (breaking, non-breaking, docs-only), then
//!   location, then kind, then reason; the same inputs give the same bytes.

mod operations;
mod render;
mod schemas;
pub mod semver;
#[cfg(test)]
mod tests;

use serde::Serialize;
use serde_json::Value;

use crate::error::escape;
use crate::{normalize, Normalized, SpecError};

pub use semver::{Semver, SemverImpact};

/// How a change affects a program using this library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    Breaking,
    NonBreaking,
    DocsOnly,
}

impl Class {
    /// The name used in JSON and text output.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Breaking => "breaking",
            Class::NonBreaking => "non-breaking",
            Class::DocsOnly => "docs-only",
        }
    }
}

/// What changed; the JSON `kind` is the snake_case variant name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ChangeKind {
    OperationAdded,
    OperationRemoved,
    OperationRenamed,
    /// One side could not be normalised for a reason other than a missing path.
    OperationUnreadable,
    OperationDocsChanged,
    SecurityChanged,
    ParameterAdded,
    ParameterRemoved,
    SuccessStatusChanged,
    ResponseBodyAdded,
    ResponseBodyRemoved,
    ChunkSchemaAdded,
    ChunkSchemaRemoved,
    FieldAdded,
    FieldRemoved,
    TypeChanged,
    FormatChanged,
    EnumValueAdded,
    EnumValueRemoved,
    VariantAdded,
    VariantRemoved,
    RequiredAdded,
    RequiredRemoved,
    NullableAdded,
    NullableRemoved,
    BoundTightened,
    BoundLoosened,
    AdditionalPropertiesClosed,
    AdditionalPropertiesOpened,
    DefaultChanged,
    DescriptionChanged,
}

/// One change, with where it is and why it is classed as it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub class: Class,
    pub location: String,
    pub reason: String,
}

/// Counts per class, so scripts need not count `changes` themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub breaking: usize,
    pub non_breaking: usize,
    pub docs_only: usize,
}

/// The whole diff; serialises to the format in the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub old: String,
    pub new: String,
    pub summary: Summary,
    /// What regenerating from the new document means for the crate's version.
    pub semver: SemverImpact,
    pub changes: Vec<Change>,
}

impl Diff {
    /// True when a user must change code or expectations to take the update.
    pub fn has_breaking(&self) -> bool {
        self.summary.breaking > 0
    }

    /// True when nothing but documentation differs.
    pub fn is_in_sync(&self) -> bool {
        self.summary.breaking == 0 && self.summary.non_breaking == 0
    }
}

/// Diffs two published documents (parsed JSON). `old_label`/`new_label`
/// name them in the output (file paths or URLs).
pub fn diff(old_label: &str, old: &Value, new_label: &str, new: &Value) -> Diff {
    let old_n = normalize(old.clone());
    let new_n = normalize(new.clone());
    let mut out = Vec::new();
    operations::operations(old, new, old_n.as_ref().ok(), &mut out);
    match (&old_n, &new_n) {
        (Ok(o), Ok(n)) => schemas::schemas(o, n, &mut out),
        (Ok(o), Err(e)) => unreadable(o, e, true, &mut out),
        (Err(e), Ok(n)) => unreadable(n, e, false, &mut out),
        (Err(_), Err(_)) => {}
    }
    finish(old_label, new_label, out)
}

fn finish(old: &str, new: &str, mut changes: Vec<Change>) -> Diff {
    changes.sort_by(|a, b| (a.class, &a.location, a.kind, &a.reason).cmp(&(b.class, &b.location, b.kind, &b.reason)));
    changes.dedup();
    let count = |c: Class| changes.iter().filter(|x| x.class == c).count();
    let summary = Summary {
        breaking: count(Class::Breaking),
        non_breaking: count(Class::NonBreaking),
        docs_only: count(Class::DocsOnly),
    };
    Diff {
        old: old.into(),
        new: new.into(),
        summary,
        semver: semver::impact(&changes),
        changes,
    }
}

fn push(out: &mut Vec<Change>, kind: ChangeKind, class: Class, location: impl Into<String>, reason: impl Into<String>) {
    out.push(Change {
        kind,
        class,
        location: location.into(),
        reason: reason.into(),
    });
}

/// When the operation the library uses is still listed but the normaliser
/// refuses one side, the user still needs a verdict.
fn unreadable(readable: &Normalized, err: &SpecError, new_side_failed: bool, out: &mut Vec<Change>) {
    let path_gone = out.iter().any(|c| {
        c.kind == ChangeKind::OperationRemoved && c.location == format!("/paths/{}/post", escape(readable.source_path))
    });
    if new_side_failed && !path_gone {
        push(
            out,
            ChangeKind::OperationUnreadable,
            Class::Breaking,
            err.pointer.clone(),
            format!("the new document cannot be used for {}: {err}", readable.source_path),
        );
    } else if !new_side_failed
        && !out.iter().any(|c| {
            c.kind == ChangeKind::OperationAdded
                && c.location == format!("/paths/{}/post", escape(readable.source_path))
        })
    {
        push(
            out,
            ChangeKind::OperationAdded,
            Class::NonBreaking,
            format!("/paths/{}/post", escape(readable.source_path)),
            format!(
                "POST {} is usable again (the old document was refused: {err})",
                readable.source_path
            ),
        );
    }
}
