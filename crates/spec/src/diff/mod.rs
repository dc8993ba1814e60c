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
    /// Code that compiled and worked may stop doing so; read before updating.
    Breaking,
    /// New capability only; existing code keeps working.
    NonBreaking,
    /// Descriptions, summaries, code samples or tags: nothing a program sees.
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
    /// A path and method appeared, or an operation the old document made unusable
    /// became usable again; the client is not affected.
    OperationAdded,
    /// A path and method disappeared; breaking when it is the POST the client
    /// calls.
    OperationRemoved,
    /// The `operationId` changed; harmless, since the generated method keeps its
    /// fixed name.
    OperationRenamed,
    /// One side could not be normalised for a reason other than a missing path.
    OperationUnreadable,
    /// A summary, description, code sample or tag of an operation changed.
    OperationDocsChanged,
    /// The operation's `security` requirements changed; reported for a reader,
    /// since the client always sends its key as a bearer token.
    SecurityChanged,
    /// A header, query or path parameter appeared; breaking when it is required,
    /// since the client does not send it.
    ParameterAdded,
    /// A parameter disappeared; harmless, since the client never sends parameters.
    ParameterRemoved,
    /// The 2xx status code of the operation changed; harmless, since the client
    /// accepts any 2xx.
    SuccessStatusChanged,
    /// The success response gained a JSON body schema.
    ResponseBodyAdded,
    /// The success response no longer has a JSON body schema, so responses cannot
    /// be decoded.
    ResponseBodyRemoved,
    /// Streaming chunks are now described by a schema.
    ChunkSchemaAdded,
    /// Streaming chunks are no longer described, so streams cannot be decoded.
    ChunkSchemaRemoved,
    /// An object gained a property; breaking only for a new required request field.
    FieldAdded,
    /// An object lost a property: code setting or reading it stops compiling.
    FieldRemoved,
    /// A value's JSON type changed (or it became or stopped being a closed enum),
    /// so its generated Rust type changes.
    TypeChanged,
    /// A value's `format` changed (e.g. `int32` to `int64`), which may change its
    /// generated Rust type.
    FormatChanged,
    /// An enum gained a value; the current client refuses it in responses until
    /// regenerated.
    EnumValueAdded,
    /// An enum lost a value: code naming it no longer compiles, or the server
    /// refuses it.
    EnumValueRemoved,
    /// A `oneOf`/`anyOf`/`allOf` gained a branch; the current client refuses it in
    /// responses until regenerated.
    VariantAdded,
    /// A `oneOf`/`anyOf`/`allOf` lost a branch: code building or matching it no longer
    /// compiles.
    VariantRemoved,
    /// A property became required: breaking in a request, always sent in a
    /// response.
    RequiredAdded,
    /// A property became optional: breaking in a response, where code must handle
    /// its absence.
    RequiredRemoved,
    /// A value may now be null: breaking for a required response field.
    NullableAdded,
    /// A value may no longer be null: breaking in a request, harmless in a
    /// response.
    NullableRemoved,
    /// A numeric, length or item-count bound narrowed or added: breaking in a
    /// request, where values accepted before are now refused.
    BoundTightened,
    /// A numeric, length or item-count bound widened or dropped: more request
    /// values are accepted, and decoding never checks response bounds.
    BoundLoosened,
    /// An object no longer accepts properties it does not list.
    AdditionalPropertiesClosed,
    /// An object now accepts properties it does not list.
    AdditionalPropertiesOpened,
    /// A default value changed: requests that omit the field may behave
    /// differently.
    DefaultChanged,
    /// A schema's description changed; documentation only.
    DescriptionChanged,
}

/// One change, with where it is and why it is classed as it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Change {
    /// What changed, as a stable machine-readable name.
    pub kind: ChangeKind,
    /// How the change affects a program using this library.
    pub class: Class,
    /// JSON pointer: into the normalised document for schema changes, into
    /// the published one for operation changes.
    pub location: String,
    /// One line for a human saying what changed and why it is classed so;
    /// its wording may change between releases.
    pub reason: String,
}

/// Counts per class, so scripts need not count `changes` themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Number of [`Class::Breaking`] changes.
    pub breaking: usize,
    /// Number of [`Class::NonBreaking`] changes.
    pub non_breaking: usize,
    /// Number of [`Class::DocsOnly`] changes.
    pub docs_only: usize,
}

/// The whole diff; serialises to the format in the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// The label given for the old document (a file path or URL).
    pub old: String,
    /// The label given for the new document (a file path or URL).
    pub new: String,
    /// Counts of `changes` per class.
    pub summary: Summary,
    /// What regenerating from the new document means for the crate's version.
    pub semver: SemverImpact,
    /// Every change, sorted by class, then location, kind and reason, so
    /// the same inputs give the same output.
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
