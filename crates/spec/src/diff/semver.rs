//! What regenerating the client means for the crate's version number.
//!
//! # The rule (from the change list)
//!
//! * **major**: any breaking change; or a change that retypes a generated
//!   field even though the wire contract only loosened or tightened in a
//!   harmless direction (`required_added`, `required_removed`,
//!   `nullable_removed`: progenitor turns `Option<T>` into `T` or back).
//! * **minor**: any other non-breaking change to the generated schemas (a
//!   location under `/components/schemas/`): new fields, enum values,
//!   variants, nullability, bounds, defaults. The generated public types
//!   grow, so code that builds them with exhaustive struct literals or
//!   matches them exhaustively may need a `..`/`_` arm; the wrapper's own
//!   API is unchanged. (Below 1.0, Cargo reads a minor bump as breaking; the
//!   rule states the SemVer meaning.)
//! * **patch**: only documentation, or operation details the generated
//!   types never see (a renamed operationId, another 2xx status, paths and
//!   parameters the client does not use).
//!
//! The change list describes the schemas; what progenitor actually emits is
//! measured by [`surface`], which classifies the difference between two
//! snapshots of the generated public surface
//! (`tests/data/generated_surface.txt`): something removed or retyped is
//! major, only additions is minor, no difference is patch. Where the two
//! disagree, the surface is the authority for the version number.

use std::collections::BTreeSet;
use std::fmt;
use std::fmt::Write as _;

use serde::Serialize;

use super::{Change, ChangeKind, Class};

/// A SemVer bump, smallest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Semver {
    /// Only documentation or operation details the generated types never see.
    Patch,
    /// The generated public types grow; the wrapper's API is unchanged.
    Minor,
    /// Something breaking, or a generated field changes its Rust type.
    Major,
}

impl Semver {
    /// `major`, `minor` or `patch`.
    pub fn as_str(self) -> &'static str {
        match self {
            Semver::Major => "major",
            Semver::Minor => "minor",
            Semver::Patch => "patch",
        }
    }
}

impl fmt::Display for Semver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The bump and the change that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SemverImpact {
    /// The version bump regenerating the client calls for.
    pub impact: Semver,
    /// Why: the count and first of the changes that decided it, or that
    /// nothing in the generated types changed.
    pub reason: String,
}

/// Non-breaking changes that still change the Rust type of a generated field.
const RETYPING: &[ChangeKind] = &[
    ChangeKind::RequiredAdded,
    ChangeKind::RequiredRemoved,
    ChangeKind::NullableRemoved,
];

fn in_generated_types(c: &Change) -> bool {
    c.location.starts_with("/components/schemas/")
}

/// Applies the rule in the module docs to a change list.
pub fn impact(changes: &[Change]) -> SemverImpact {
    let count = |f: &dyn Fn(&Change) -> bool| changes.iter().filter(|c| f(c)).count();
    let first = |f: &dyn Fn(&Change) -> bool| changes.iter().find(|c| f(c)).map(|c| c.reason.clone());
    let breaking = |c: &Change| c.class == Class::Breaking;
    let retyping = |c: &Change| c.class == Class::NonBreaking && in_generated_types(c) && RETYPING.contains(&c.kind);
    let growing = |c: &Change| c.class == Class::NonBreaking && in_generated_types(c);
    if let Some(why) = first(&breaking) {
        return SemverImpact {
            impact: Semver::Major,
            reason: format!("{} breaking change(s), first: {why}", count(&breaking)),
        };
    }
    if let Some(why) = first(&retyping) {
        return SemverImpact {
            impact: Semver::Major,
            reason: format!("a generated field changes its Rust type: {why}"),
        };
    }
    if let Some(why) = first(&growing) {
        return SemverImpact {
            impact: Semver::Minor,
            reason: format!(
                "{} addition(s) to the generated public types, first: {why}",
                count(&growing)
            ),
        };
    }
    SemverImpact {
        impact: Semver::Patch,
        reason: if changes.is_empty() {
            "no change".into()
        } else {
            "no change to the generated public types (documentation or operation details only)".into()
        },
    }
}

/// The difference between two snapshots of the generated public surface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SurfaceDiff {
    /// `major` if anything was removed or retyped, `minor` if items were
    /// only added, `patch` if the snapshots are the same.
    pub impact: Semver,
    /// Items only in the new snapshot, e.g. `struct Usage { cost: Option<f64> }`.
    pub added: Vec<String>,
    /// Items only in the old snapshot (removed, or the old form of a retyped one).
    pub removed: Vec<String>,
}

/// Snapshot lines are `struct X` / `enum X` / `fn ...` headers, with indented
/// member lines below a type; members are named with their type so that
/// the same field name in two types is two items.
fn items(snapshot: &str) -> BTreeSet<String> {
    let mut header = String::new();
    let mut out = BTreeSet::new();
    for line in snapshot.lines().filter(|l| !l.trim().is_empty()) {
        if line.starts_with(char::is_whitespace) {
            out.insert(format!("{header} {{ {} }}", line.trim()));
        } else {
            header = line.trim().to_string();
            out.insert(header.clone());
        }
    }
    out
}

/// Classifies two snapshots: removed or retyped items are major, only
/// additions minor, no difference patch.
pub fn surface(old: &str, new: &str) -> SurfaceDiff {
    let (a, b) = (items(old), items(new));
    let removed: Vec<String> = a.difference(&b).cloned().collect();
    let added: Vec<String> = b.difference(&a).cloned().collect();
    let impact = if !removed.is_empty() {
        Semver::Major
    } else if !added.is_empty() {
        Semver::Minor
    } else {
        Semver::Patch
    };
    SurfaceDiff { impact, added, removed }
}

impl SurfaceDiff {
    /// One line per item, `+` added, `-` removed, after a verdict line.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "generated surface: {} ({} added, {} removed)\n",
            self.impact,
            self.added.len(),
            self.removed.len()
        );
        for r in &self.removed {
            let _ = writeln!(out, "- {r}");
        }
        for a in &self.added {
            let _ = writeln!(out, "+ {a}");
        }
        out
    }

    /// The same as a markdown section for a pull request body.
    pub fn render_markdown(&self) -> String {
        let mut out = format!(
            "### Generated Rust surface: **{}**\n\n{} added, {} removed (`tests/data/generated_surface.txt`; removed or retyped items are major, additions minor).\n",
            self.impact,
            self.added.len(),
            self.removed.len()
        );
        if !self.added.is_empty() || !self.removed.is_empty() {
            out.push_str("\n```diff\n");
            out.push_str(&self.render_text().lines().skip(1).collect::<Vec<_>>().join("\n"));
            out.push_str("\n```\n");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: ChangeKind, class: Class, location: &str) -> Change {
        Change {
            kind,
            class,
            location: location.into(),
            reason: format!("{kind:?}"),
        }
    }

    #[test]
    fn the_rule() {
        let s = "/components/schemas/Usage/properties/x";
        let op = "/paths/~1v1~1chat~1completions/post/operationId";
        assert_eq!(impact(&[]).impact, Semver::Patch);
        let docs = change(ChangeKind::DescriptionChanged, Class::DocsOnly, s);
        let renamed = change(ChangeKind::OperationRenamed, Class::NonBreaking, op);
        assert_eq!(impact(&[docs.clone(), renamed.clone()]).impact, Semver::Patch);
        let added = change(ChangeKind::FieldAdded, Class::NonBreaking, s);
        let minor = impact(&[docs.clone(), added.clone(), renamed]);
        assert_eq!(minor.impact, Semver::Minor);
        assert!(minor.reason.contains("1 addition"), "{}", minor.reason);
        let retyped = change(ChangeKind::RequiredAdded, Class::NonBreaking, s);
        assert_eq!(impact(&[added.clone(), retyped]).impact, Semver::Major);
        let removed = change(ChangeKind::FieldRemoved, Class::Breaking, s);
        let major = impact(&[added, removed]);
        assert_eq!(major.impact, Semver::Major);
        assert!(
            major.reason.starts_with("1 breaking change(s), first: FieldRemoved"),
            "{}",
            major.reason
        );
    }

    #[test]
    fn surface_snapshots() {
        let old = "struct Usage\n  total_tokens: i64\nenum Role\n  User\nfn Client::new(baseurl:&str) Self\n";
        assert_eq!(surface(old, old).impact, Semver::Patch);
        let grown = "struct Usage\n  cost: Option<f64>\n  total_tokens: i64\nenum Role\n  User\n  Tool\nfn Client::new(baseurl:&str) Self\n";
        let d = surface(old, grown);
        assert_eq!(d.impact, Semver::Minor);
        assert_eq!(
            d.added,
            vec![
                "enum Role { Tool }".to_string(),
                "struct Usage { cost: Option<f64> }".to_string()
            ]
        );
        let retyped = old.replace("total_tokens: i64", "total_tokens: Option<i64>");
        let d = surface(old, &retyped);
        assert_eq!((d.impact, d.removed.len(), d.added.len()), (Semver::Major, 1, 1));
        assert!(d.render_markdown().contains("- struct Usage { total_tokens: i64 }"));
        // A field of the same name in another type is another item.
        let moved = "struct Usage\nenum Role\n  User\n  total_tokens: i64\nfn Client::new(baseurl:&str) Self\n";
        assert_eq!(surface(old, moved).impact, Semver::Major);
    }
}
