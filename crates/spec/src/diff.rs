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
//!   optional or nullable; a new value or variant in a response (the
//!   generated decoder rejects it until regenerated); the operation removed.
//! * `non-breaking`: new capability only: new optional request fields, new
//!   request enum values or variants, loosened request bounds, new response
//!   fields, a renamed operationId (the generated method keeps its fixed
//!   name), a different 2xx status (any 2xx is success).
//! * `docs-only`: descriptions, summaries, code samples, tags.
//!
//! A document the normaliser refuses is not an error here: the diff reports
//! what disappeared (typically `operation_removed`), because "the new version
//! is unusable" is exactly what a user must see before updating.
//!
//! # JSON output (stable; scripts consume it)
//!
//! ```text
//! {
//!   "old": "<label of the old document>",
//!   "new": "<label of the new document>",
//!   "summary": {"breaking": N, "non_breaking": N, "docs_only": N},
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
//! * `changes` is sorted by class (breaking, non-breaking, docs-only), then
//!   location, then kind, then reason; the same inputs give the same bytes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::error::escape;
use crate::{names, normalize, Normalized, SpecError};

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

    /// Pretty JSON in the documented format, ending with a newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a Diff holds only strings and numbers");
        s.push('\n');
        s
    }

    /// A report for a terminal: a summary line, then one line per change
    /// grouped by class.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let s = &self.summary;
        let _ = writeln!(out, "{} -> {}", self.old, self.new);
        let _ = writeln!(
            out,
            "{} breaking, {} non-breaking, {} docs-only",
            s.breaking, s.non_breaking, s.docs_only
        );
        let mut current = None;
        for c in &self.changes {
            if current != Some(c.class) {
                current = Some(c.class);
                let _ = writeln!(out, "\n{}:", c.class.as_str());
            }
            let _ = writeln!(out, "  {}\n      at {}", c.reason, c.location);
        }
        out
    }
}

/// Diffs two published documents (parsed JSON). `old_label`/`new_label`
/// name them in the output (file paths or URLs).
pub fn diff(old_label: &str, old: &Value, new_label: &str, new: &Value) -> Diff {
    let old_n = normalize(old.clone());
    let new_n = normalize(new.clone());
    let mut out = Vec::new();
    operations(old, new, old_n.as_ref().ok(), &mut out);
    match (&old_n, &new_n) {
        (Ok(o), Ok(n)) => schemas(o, n, &mut out),
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

// ---------------------------------------------------------------------------
// Operations, from the raw documents.

const HTTP_METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/// Operation keys that change the wire contract; everything else is prose.
const CONTRACT_KEYS: &[&str] = &["operationId", "requestBody", "responses", "parameters", "security"];

fn raw_operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let mut ops = BTreeMap::new();
    for (path, item) in doc.get("paths").and_then(Value::as_object).into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if HTTP_METHODS.contains(&method.as_str()) && op.is_object() {
                ops.insert((path.clone(), method.clone()), op);
            }
        }
    }
    ops
}

fn operations(old: &Value, new: &Value, old_n: Option<&Normalized>, out: &mut Vec<Change>) {
    let (a, b) = (raw_operations(old), raw_operations(new));
    let used = old_n.map(|n| n.source_path);
    for ((path, method), op) in &a {
        let at = format!("/paths/{}/{method}", escape(path));
        let verb = method.to_uppercase();
        let Some(nop) = b.get(&(path.clone(), method.clone())) else {
            let (class, why) = if used == Some(path.as_str()) && method == "post" {
                (Class::Breaking, "the client calls this operation")
            } else {
                (Class::NonBreaking, "the client does not call it")
            };
            push(
                out,
                ChangeKind::OperationRemoved,
                class,
                at,
                format!("operation {verb} {path} removed: {why}"),
            );
            continue;
        };
        let id = |o: &Value| o.get("operationId").and_then(Value::as_str).unwrap_or("").to_string();
        if id(op) != id(nop) {
            push(
                out,
                ChangeKind::OperationRenamed,
                Class::NonBreaking,
                format!("{at}/operationId"),
                format!(
                    "operationId of {verb} {path} renamed {:?} -> {:?}: the generated method keeps its fixed name {}",
                    id(op),
                    id(nop),
                    crate::OPERATION_ID
                ),
            );
        }
        let codes = |o: &Value| -> Vec<String> {
            o.get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .filter(|k| k.starts_with('2'))
                .collect()
        };
        if codes(op) != codes(nop) {
            push(
                out,
                ChangeKind::SuccessStatusChanged,
                Class::NonBreaking,
                format!("{at}/responses"),
                format!(
                    "success status of {verb} {path} {} -> {}: the client accepts any 2xx",
                    codes(op).join(","),
                    codes(nop).join(",")
                ),
            );
        }
        parameters(op, nop, &at, out);
        let keys: BTreeSet<&String> = op
            .as_object()
            .into_iter()
            .chain(nop.as_object())
            .flat_map(|m| m.keys())
            .collect();
        for key in keys {
            if CONTRACT_KEYS.contains(&key.as_str()) && key != "security" {
                continue;
            }
            if op.get(key) != nop.get(key) {
                let (kind, why) = if key == "security" {
                    (
                        ChangeKind::SecurityChanged,
                        "the client always sends its key as a bearer token",
                    )
                } else {
                    (ChangeKind::OperationDocsChanged, "documentation only")
                };
                push(
                    out,
                    kind,
                    Class::DocsOnly,
                    format!("{at}/{}", escape(key)),
                    format!("`{key}` of {verb} {path} changed: {why}"),
                );
            }
        }
    }
    for (path, method) in b.keys().filter(|k| !a.contains_key(*k)) {
        push(
            out,
            ChangeKind::OperationAdded,
            Class::NonBreaking,
            format!("/paths/{}/{method}", escape(path)),
            format!("operation {} {path} added", method.to_uppercase()),
        );
    }
}

fn parameters(old: &Value, new: &Value, at: &str, out: &mut Vec<Change>) {
    let list = |o: &Value| -> BTreeMap<(String, String), bool> {
        o.get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
                Some(((s("in")?, s("name")?), p.get("required") == Some(&Value::Bool(true))))
            })
            .collect()
    };
    let (a, b) = (list(old), list(new));
    for ((inn, name), _) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
        push(
            out,
            ChangeKind::ParameterRemoved,
            Class::NonBreaking,
            format!("{at}/parameters"),
            format!("{inn} parameter {name} removed: the client never sends it"),
        );
    }
    for ((inn, name), required) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
        let (class, why) = if *required {
            (Class::Breaking, "required, and the client does not send it")
        } else {
            (Class::NonBreaking, "optional")
        };
        push(
            out,
            ChangeKind::ParameterAdded,
            class,
            format!("{at}/parameters"),
            format!("{inn} parameter {name} added: {why}"),
        );
    }
}

// ---------------------------------------------------------------------------
// Schemas, from the normalised documents.

/// Which side sends the data decides whether widening or narrowing hurts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Request,
    Response,
}

fn schemas(old: &Normalized, new: &Normalized, out: &mut Vec<Change>) {
    let mut w = Walker {
        old: &old.document,
        new: &new.document,
        seen: HashSet::new(),
        out,
    };
    // The request is always there: the normaliser refuses documents without one.
    if let (Some(a), Some(b)) = (old.schema(names::REQUEST), new.schema(names::REQUEST)) {
        let at = format!("/components/schemas/{}", names::REQUEST);
        let (a, b) = (resolve(w.old, a, at.clone()), resolve(w.new, b, at));
        w.compare(&a, &b, Dir::Request, "request");
    }
    for (name, label, added, removed) in [
        (
            names::RESPONSE,
            "response",
            ChangeKind::ResponseBodyAdded,
            ChangeKind::ResponseBodyRemoved,
        ),
        (
            names::CHUNK,
            "chunk",
            ChangeKind::ChunkSchemaAdded,
            ChangeKind::ChunkSchemaRemoved,
        ),
    ] {
        let at = format!("/components/schemas/{name}");
        match (old.schema(name), new.schema(name)) {
            (Some(a), Some(b)) => {
                let a = resolve(w.old, a, at.clone());
                let b = resolve(w.new, b, at);
                w.compare(&a, &b, Dir::Response, label);
            }
            (Some(_), None) => {
                let why = if name == names::CHUNK {
                    "streaming chunks are no longer described"
                } else {
                    "the success response no longer has a JSON body"
                };
                push(
                    w.out,
                    removed,
                    Class::Breaking,
                    at,
                    format!("{label} schema removed: {why}"),
                );
            }
            (None, Some(_)) => push(w.out, added, Class::NonBreaking, at, format!("{label} schema added")),
            (None, None) => {}
        }
    }
}

/// A schema after following `$ref`s and single-branch `allOf` wrappers (the
/// hoister's way of saying "nullable reference").
struct Node<'a> {
    schema: &'a Value,
    /// Where the schema is used (a property, an item).
    site: String,
    /// Where its definition lives, after references.
    pointer: String,
    nullable: bool,
    description: Option<&'a str>,
}

static EMPTY: Value = Value::Null;

fn resolve<'a>(doc: &'a Value, mut schema: &'a Value, site: String) -> Node<'a> {
    let mut pointer = site.clone();
    let mut nullable = false;
    let mut description = None;
    for _ in 0..32 {
        nullable |= schema.get("nullable") == Some(&Value::Bool(true));
        if description.is_none() {
            description = schema.get("description").and_then(Value::as_str);
        }
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let target = r.trim_start_matches('#');
            match doc.pointer(target) {
                Some(t) => {
                    schema = t;
                    pointer = target.to_string();
                    continue;
                }
                None => break,
            }
        }
        match schema.get("allOf").and_then(Value::as_array) {
            Some(one) if one.len() == 1 && schema.get("properties").is_none() && schema.get("type").is_none() => {
                schema = &one[0];
                pointer = format!("{pointer}/allOf/0");
            }
            _ => break,
        }
    }
    let schema = if schema.is_object() { schema } else { &EMPTY };
    Node {
        schema,
        site,
        pointer,
        nullable,
        description,
    }
}

fn shape(s: &Value) -> String {
    for k in ["oneOf", "anyOf", "allOf"] {
        if s.get(k).is_some() {
            return k.to_string();
        }
    }
    s.get("type").and_then(Value::as_str).unwrap_or("any").to_string()
}

/// Keywords bounding a value from below; the rest bound it from above.
const LOWER: &[&str] = &["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"];
const UPPER: &[&str] = &["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"];

struct Walker<'a, 'o> {
    old: &'a Value,
    new: &'a Value,
    seen: HashSet<(String, String)>,
    out: &'o mut Vec<Change>,
}

impl Walker<'_, '_> {
    fn add(&mut self, kind: ChangeKind, class: Class, location: &str, reason: String) {
        push(self.out, kind, class, location, reason);
    }

    fn compare(&mut self, a: &Node<'_>, b: &Node<'_>, dir: Dir, path: &str) {
        if a.description != b.description {
            self.add(
                ChangeKind::DescriptionChanged,
                Class::DocsOnly,
                &b.site,
                format!("description of {path} changed"),
            );
        }
        if a.nullable != b.nullable {
            let (kind, class, why) = match (b.nullable, dir) {
                (true, Dir::Request) => (ChangeKind::NullableAdded, Class::NonBreaking, "null is now accepted"),
                (true, Dir::Response) => (
                    ChangeKind::NullableAdded,
                    Class::Breaking,
                    "it may now be null; code reading it must handle that",
                ),
                (false, Dir::Request) => (
                    ChangeKind::NullableRemoved,
                    Class::Breaking,
                    "null is no longer accepted",
                ),
                (false, Dir::Response) => (
                    ChangeKind::NullableRemoved,
                    Class::NonBreaking,
                    "it is never null any more",
                ),
            };
            self.add(kind, class, &b.site, format!("{path}: {why}"));
        }
        if !self.seen.insert((a.pointer.clone(), b.pointer.clone())) {
            return;
        }
        let (x, y) = (a.schema, b.schema);
        let loc = b.pointer.as_str();
        let (sx, sy) = (shape(x), shape(y));
        if sx != sy {
            self.add(
                ChangeKind::TypeChanged,
                Class::Breaking,
                loc,
                format!("type of {path} changed {sx} -> {sy}: the generated Rust type changes"),
            );
            return;
        }
        if x.get("format") != y.get("format") {
            let f = |v: &Value| v.get("format").and_then(Value::as_str).unwrap_or("none").to_string();
            self.add(
                ChangeKind::FormatChanged,
                Class::Breaking,
                loc,
                format!(
                    "format of {path} changed {} -> {}: the generated Rust type may change",
                    f(x),
                    f(y)
                ),
            );
        }
        self.enums(x, y, loc, dir, path);
        self.bounds(x, y, loc, dir, path);
        if x.get("default") != y.get("default") {
            let d = |v: &Value| v.get("default").map(Value::to_string).unwrap_or_else(|| "none".into());
            self.add(
                ChangeKind::DefaultChanged,
                Class::NonBreaking,
                loc,
                format!(
                    "default of {path} changed {} -> {}: requests that omit it may behave differently",
                    d(x),
                    d(y)
                ),
            );
        }
        self.properties(a, b, dir, path);
        self.additional(a, b, dir, path);
        if x.get("items").is_some() || y.get("items").is_some() {
            let ia = resolve(
                self.old,
                x.get("items").unwrap_or(&EMPTY),
                format!("{}/items", a.pointer),
            );
            let ib = resolve(
                self.new,
                y.get("items").unwrap_or(&EMPTY),
                format!("{}/items", b.pointer),
            );
            self.compare(&ia, &ib, dir, &format!("{path}[]"));
        }
        for key in ["oneOf", "anyOf", "allOf"] {
            self.variants(a, b, key, dir, path);
        }
    }

    fn enums(&mut self, x: &Value, y: &Value, loc: &str, dir: Dir, path: &str) {
        let values = |v: &Value| -> Option<Vec<String>> {
            v.get("enum")
                .and_then(Value::as_array)
                .map(|e| e.iter().map(Value::to_string).collect())
        };
        match (values(x), values(y)) {
            (Some(ea), Some(eb)) => {
                for v in ea.iter().filter(|v| !eb.contains(v)) {
                    self.add(
                        ChangeKind::EnumValueRemoved,
                        Class::Breaking,
                        loc,
                        format!("value {v} of {path} removed: code naming it no longer compiles or is refused"),
                    );
                }
                for v in eb.iter().filter(|v| !ea.contains(v)) {
                    let (class, why) = match dir {
                        Dir::Request => (Class::NonBreaking, "a new option"),
                        Dir::Response => (Class::Breaking, "the generated enum cannot decode it until regenerated"),
                    };
                    self.add(
                        ChangeKind::EnumValueAdded,
                        class,
                        loc,
                        format!("value {v} of {path} added: {why}"),
                    );
                }
            }
            (None, Some(_)) => self.add(
                ChangeKind::TypeChanged,
                Class::Breaking,
                loc,
                format!("{path} became a closed enum: the generated Rust type changes"),
            ),
            (Some(_), None) => self.add(
                ChangeKind::TypeChanged,
                Class::Breaking,
                loc,
                format!("{path} is no longer a closed enum: the generated Rust type changes"),
            ),
            (None, None) => {}
        }
    }

    fn bounds(&mut self, x: &Value, y: &Value, loc: &str, dir: Dir, path: &str) {
        for key in LOWER.iter().chain(UPPER) {
            let (va, vb) = (x.get(*key), y.get(*key));
            if va == vb {
                continue;
            }
            let num = |v: Option<&Value>| {
                v.and_then(|v| v.as_f64().or_else(|| v.as_bool().map(|b| if b { 1.0 } else { 0.0 })))
            };
            let lower = LOWER.contains(key);
            let tightened = match (num(va), num(vb)) {
                (None, Some(_)) => true,
                (Some(_), None) => false,
                (Some(p), Some(q)) => (q > p) == lower,
                (None, None) => continue,
            };
            let show = |v: Option<&Value>| v.map(Value::to_string).unwrap_or_else(|| "none".into());
            let (kind, verb) = if tightened {
                (ChangeKind::BoundTightened, "tightened")
            } else {
                (ChangeKind::BoundLoosened, "loosened")
            };
            let (class, why) = match (dir, tightened) {
                (Dir::Request, true) => (Class::Breaking, "values accepted before are now refused"),
                (Dir::Request, false) => (Class::NonBreaking, "more values are accepted"),
                (Dir::Response, _) => (Class::NonBreaking, "decoding does not check response bounds"),
            };
            self.add(
                kind,
                class,
                loc,
                format!("{key} of {path} {verb} {} -> {}: {why}", show(va), show(vb)),
            );
        }
    }

    fn properties(&mut self, a: &Node<'_>, b: &Node<'_>, dir: Dir, path: &str) {
        let props = |s: &Value| {
            s.get("properties")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let required = |s: &Value| -> BTreeSet<String> {
            s.get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        let (pa, pb) = (props(a.schema), props(b.schema));
        let (ra, rb) = (required(a.schema), required(b.schema));
        let names: BTreeSet<&String> = pa.keys().chain(pb.keys()).collect();
        for name in names {
            let field = format!("{path}.{name}");
            let la = format!("{}/properties/{}", a.pointer, escape(name));
            let lb = format!("{}/properties/{}", b.pointer, escape(name));
            match (pa.get(name), pb.get(name)) {
                (Some(_), None) => {
                    let why = match dir {
                        Dir::Request => "code setting it no longer compiles",
                        Dir::Response => "code reading it no longer compiles",
                    };
                    self.add(
                        ChangeKind::FieldRemoved,
                        Class::Breaking,
                        &la,
                        format!("{field} removed: {why}"),
                    );
                }
                (None, Some(_)) => {
                    let (class, why) = match (dir, rb.contains(name)) {
                        (Dir::Request, true) => (Class::Breaking, "required, so every request must now set it"),
                        (Dir::Request, false) => (Class::NonBreaking, "optional"),
                        (Dir::Response, _) => (Class::NonBreaking, "new data to read"),
                    };
                    self.add(ChangeKind::FieldAdded, class, &lb, format!("{field} added: {why}"));
                }
                (Some(sa), Some(sb)) => {
                    match (ra.contains(name), rb.contains(name), dir) {
                        (false, true, Dir::Request) => self.add(
                            ChangeKind::RequiredAdded,
                            Class::Breaking,
                            &lb,
                            format!("{field} became required: requests without it are refused"),
                        ),
                        (false, true, Dir::Response) => self.add(
                            ChangeKind::RequiredAdded,
                            Class::NonBreaking,
                            &lb,
                            format!("{field} became required: it is always sent"),
                        ),
                        (true, false, Dir::Request) => self.add(
                            ChangeKind::RequiredRemoved,
                            Class::NonBreaking,
                            &lb,
                            format!("{field} became optional"),
                        ),
                        (true, false, Dir::Response) => self.add(
                            ChangeKind::RequiredRemoved,
                            Class::Breaking,
                            &lb,
                            format!("{field} became optional: it may be absent, code reading it must handle that"),
                        ),
                        _ => {}
                    }
                    let na = resolve(self.old, sa, la);
                    let nb = resolve(self.new, sb, lb);
                    self.compare(&na, &nb, dir, &field);
                }
                (None, None) => {}
            }
        }
    }

    fn additional(&mut self, a: &Node<'_>, b: &Node<'_>, dir: Dir, path: &str) {
        #[derive(PartialEq)]
        enum Extra<'v> {
            Open,
            Closed,
            Typed(&'v Value),
        }
        fn extra(s: &Value) -> Extra<'_> {
            match s.get("additionalProperties") {
                None | Some(Value::Bool(true)) => Extra::Open,
                Some(Value::Bool(false)) => Extra::Closed,
                // `{}` or a schema that only describes itself: any value.
                Some(Value::Object(m)) if m.keys().all(|k| k == "description") => Extra::Open,
                Some(v) => Extra::Typed(v),
            }
        }
        let loc = format!("{}/additionalProperties", b.pointer);
        match (extra(a.schema), extra(b.schema)) {
            (Extra::Typed(x), Extra::Typed(y)) => {
                let na = resolve(self.old, x, format!("{}/additionalProperties", a.pointer));
                let nb = resolve(self.new, y, loc);
                self.compare(&na, &nb, dir, &format!("{path}.*"));
            }
            (Extra::Open, Extra::Closed) if dir == Dir::Request => self.add(
                ChangeKind::AdditionalPropertiesClosed,
                Class::Breaking,
                &loc,
                format!("{path} no longer accepts unlisted fields"),
            ),
            (Extra::Closed, Extra::Open) if dir == Dir::Request => self.add(
                ChangeKind::AdditionalPropertiesOpened,
                Class::NonBreaking,
                &loc,
                format!("{path} now accepts unlisted fields"),
            ),
            (p, q) if p != q && (matches!(p, Extra::Typed(_)) || matches!(q, Extra::Typed(_))) => self.add(
                ChangeKind::TypeChanged,
                Class::Breaking,
                &loc,
                format!("the value type of map {path} changed: the generated Rust type changes"),
            ),
            _ => {}
        }
    }

    fn variants(&mut self, a: &Node<'_>, b: &Node<'_>, key: &str, dir: Dir, path: &str) {
        let branches = |doc: &'_ Value, n: &Node<'_>| -> Vec<(String, String, usize)> {
            let list = n.schema.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            list.iter()
                .enumerate()
                .map(|(i, br)| {
                    let site = format!("{}/{key}/{i}", n.pointer);
                    let r = resolve(doc, br, site.clone());
                    let base = variant_key(r.schema);
                    let count = seen.entry(base.clone()).or_insert(0);
                    *count += 1;
                    let k = if *count == 1 { base } else { format!("{base}#{count}") };
                    (k, site, i)
                })
                .collect()
        };
        let (ba, bb) = (branches(self.old, a), branches(self.new, b));
        let la: Vec<&String> = ba.iter().map(|x| &x.0).collect();
        let lb: Vec<&String> = bb.iter().map(|x| &x.0).collect();
        for (k, site, _) in ba.iter().filter(|x| !lb.contains(&&x.0)) {
            self.add(
                ChangeKind::VariantRemoved,
                Class::Breaking,
                site,
                format!("variant {k} of {path} removed: code building or matching it no longer compiles"),
            );
        }
        for (k, site, _) in bb.iter().filter(|x| !la.contains(&&x.0)) {
            let (class, why) = match dir {
                Dir::Request => (Class::NonBreaking, "a new option"),
                Dir::Response => (Class::Breaking, "the generated type cannot decode it until regenerated"),
            };
            self.add(
                ChangeKind::VariantAdded,
                class,
                site,
                format!("variant {k} of {path} added: {why}"),
            );
        }
        for (k, sa, ia) in &ba {
            let Some((_, sb, ib)) = bb.iter().find(|x| &x.0 == k) else {
                continue;
            };
            let va = a.schema.get(key).and_then(|v| v.get(*ia)).unwrap_or(&EMPTY);
            let vb = b.schema.get(key).and_then(|v| v.get(*ib)).unwrap_or(&EMPTY);
            let na = resolve(self.old, va, sa.clone());
            let nb = resolve(self.new, vb, sb.clone());
            self.compare(&na, &nb, dir, &format!("{path}<{k}>"));
        }
    }
}

/// Names a oneOf branch by what tells it apart on the wire (`role=user`,
/// `type=image_url`), falling back to its JSON type, so reordering
/// branches is not reported as a change.
fn variant_key(s: &Value) -> String {
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        let tag = |name: &str| -> Option<String> {
            let e = props.get(name)?.get("enum")?.as_array()?;
            match e.as_slice() {
                [Value::String(v)] => Some(format!("{name}={v}")),
                _ => None,
            }
        };
        let preferred = ["role", "type"].into_iter().find_map(tag);
        if let Some(t) = preferred.or_else(|| props.keys().find_map(|k| tag(k))) {
            return t;
        }
    }
    shape(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A published-style document: one operation, inline schemas.
    fn doc(request: Value, response: Value) -> Value {
        json!({
            "openapi": "3.0.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/v1/chat/completions": {"post": {
                "operationId": "chat",
                "summary": "Chat",
                "requestBody": {"content": {"application/json": {"schema": request}}},
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": response}}}}
            }}}
        })
    }

    fn request(extra: Value) -> Value {
        let mut props = json!({
            "model": {"type": "string"},
            "messages": {"type": "array", "items": {"oneOf": [
                {"type": "object", "properties": {"role": {"type": "string", "enum": ["user"]}, "content": {"type": "string"}}, "required": ["role", "content"]},
                {"type": "object", "properties": {"role": {"type": "string", "enum": ["system"]}, "content": {"type": "string"}}, "required": ["role", "content"]}
            ]}},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2, "description": "Sampling temperature."},
            "reasoning": {"type": "string", "enum": ["low", "medium", "high"]}
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                props.as_object_mut().unwrap().remove(k);
            } else {
                props[k] = v.clone();
            }
        }
        json!({"type": "object", "properties": props, "required": ["model", "messages"]})
    }

    fn response(extra: Value, required: Value) -> Value {
        let mut props = json!({"id": {"type": "string"}, "created": {"type": "integer"}, "finish": {"type": "string", "enum": ["stop", "length"]}});
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                props.as_object_mut().unwrap().remove(k);
            } else {
                props[k] = v.clone();
            }
        }
        json!({"type": "object", "properties": props, "required": required})
    }

    fn base() -> Value {
        doc(request(json!({})), response(json!({}), json!(["id", "created"])))
    }

    fn changes(old: &Value, new: &Value) -> Vec<Change> {
        diff("old", old, "new", new).changes
    }

    fn only(old: &Value, new: &Value, kind: ChangeKind) -> Change {
        let cs = changes(old, new);
        assert_eq!(cs.len(), 1, "expected exactly one change, got {cs:#?}");
        assert_eq!(cs[0].kind, kind, "{cs:#?}");
        cs[0].clone()
    }

    #[test]
    fn identical_documents_have_no_changes() {
        assert_eq!(changes(&base(), &base()), vec![]);
    }

    #[test]
    fn request_field_removed_is_breaking() {
        let new = doc(
            request(json!({"temperature": null})),
            response(json!({}), json!(["id", "created"])),
        );
        let c = only(&base(), &new, ChangeKind::FieldRemoved);
        assert_eq!(c.class, Class::Breaking);
        assert_eq!(
            c.location,
            "/components/schemas/ChatCompletionRequest/properties/temperature"
        );
        assert!(c.reason.contains("request.temperature"), "{}", c.reason);
    }

    #[test]
    fn optional_request_field_added_is_non_breaking_and_required_one_is_breaking() {
        let new = doc(
            request(json!({"top_k": {"type": "integer"}})),
            response(json!({}), json!(["id", "created"])),
        );
        assert_eq!(only(&base(), &new, ChangeKind::FieldAdded).class, Class::NonBreaking);
        let mut req = request(json!({"top_k": {"type": "integer"}}));
        req["required"] = json!(["model", "messages", "top_k"]);
        let new = doc(req, response(json!({}), json!(["id", "created"])));
        assert_eq!(only(&base(), &new, ChangeKind::FieldAdded).class, Class::Breaking);
    }

    #[test]
    fn description_change_is_docs_only() {
        let new = doc(
            request(
                json!({"temperature": {"type": "number", "minimum": 0, "maximum": 2, "description": "How random."}}),
            ),
            response(json!({}), json!(["id", "created"])),
        );
        assert_eq!(
            only(&base(), &new, ChangeKind::DescriptionChanged).class,
            Class::DocsOnly
        );
        let mut new = base();
        new["paths"]["/v1/chat/completions"]["post"]["summary"] = json!("Chat completions");
        assert_eq!(
            only(&base(), &new, ChangeKind::OperationDocsChanged).class,
            Class::DocsOnly
        );
    }

    #[test]
    fn bounds_tightened_break_requests_and_loosened_do_not() {
        let tight = doc(
            request(
                json!({"temperature": {"type": "number", "minimum": 0, "maximum": 1, "description": "Sampling temperature."}}),
            ),
            response(json!({}), json!(["id", "created"])),
        );
        let c = only(&base(), &tight, ChangeKind::BoundTightened);
        assert_eq!(c.class, Class::Breaking);
        assert!(
            c.reason.contains("maximum") && c.reason.contains("2 -> 1"),
            "{}",
            c.reason
        );
        let c = only(&tight, &base(), ChangeKind::BoundLoosened);
        assert_eq!(c.class, Class::NonBreaking);
    }

    #[test]
    fn enum_values_in_requests_and_responses() {
        let fewer = doc(
            request(json!({"reasoning": {"type": "string", "enum": ["low", "high"]}})),
            response(json!({}), json!(["id", "created"])),
        );
        let c = only(&base(), &fewer, ChangeKind::EnumValueRemoved);
        assert_eq!(c.class, Class::Breaking);
        assert!(c.reason.contains("\"medium\""), "{}", c.reason);
        assert_eq!(
            only(&fewer, &base(), ChangeKind::EnumValueAdded).class,
            Class::NonBreaking
        );
        let more = doc(
            request(json!({})),
            response(
                json!({"finish": {"type": "string", "enum": ["stop", "length", "abort"]}}),
                json!(["id", "created"]),
            ),
        );
        // The reading side is open (no enums): a value the response gains
        // changes nothing the client decodes.
        assert!(!diff("old", &base(), "new", &more).has_breaking());
    }

    #[test]
    fn response_fields() {
        // An optional response field is nullable once normalised, so
        // dropping `required` shows as both.
        let optional = doc(request(json!({})), response(json!({}), json!(["id"])));
        let cs = changes(&base(), &optional);
        assert!(
            cs.iter()
                .any(|c| c.kind == ChangeKind::RequiredRemoved && c.class == Class::Breaking),
            "{cs:#?}"
        );
        let nullable = doc(
            request(json!({})),
            response(
                json!({"created": {"type": "integer", "nullable": true}}),
                json!(["id", "created"]),
            ),
        );
        assert_eq!(
            only(&base(), &nullable, ChangeKind::NullableAdded).class,
            Class::Breaking
        );
        let more = doc(
            request(json!({})),
            response(
                json!({"system_fingerprint": {"type": "string"}}),
                json!(["id", "created"]),
            ),
        );
        assert_eq!(only(&base(), &more, ChangeKind::FieldAdded).class, Class::NonBreaking);
        assert_eq!(only(&more, &base(), ChangeKind::FieldRemoved).class, Class::Breaking);
    }

    #[test]
    fn type_change_is_breaking_and_stops_descent() {
        let new = doc(
            request(json!({"model": {"type": "object", "properties": {"name": {"type": "string"}}}})),
            response(json!({}), json!(["id", "created"])),
        );
        // The normaliser pins `model` to a string (other hosts use other
        // names), so what the generated client sees does not change.
        assert_eq!(changes(&base(), &new), vec![]);
        let new = doc(
            request(json!({"temperature": {"type": "string", "description": "Sampling temperature."}})),
            response(json!({}), json!(["id", "created"])),
        );
        let c = only(&base(), &new, ChangeKind::TypeChanged);
        assert_eq!(c.class, Class::Breaking);
        assert!(c.reason.contains("number -> string"), "{}", c.reason);
    }

    #[test]
    fn variants_are_matched_by_tag_not_position() {
        let mut swapped = request(json!({}));
        let items = swapped["properties"]["messages"]["items"]["oneOf"]
            .as_array_mut()
            .unwrap();
        items.reverse();
        let new = doc(swapped.clone(), response(json!({}), json!(["id", "created"])));
        assert_eq!(changes(&base(), &new), vec![]);
        swapped["properties"]["messages"]["items"]["oneOf"].as_array_mut().unwrap().push(
            json!({"type": "object", "properties": {"role": {"type": "string", "enum": ["developer"]}, "content": {"type": "string"}}, "required": ["role", "content"]}),
        );
        let new = doc(swapped, response(json!({}), json!(["id", "created"])));
        let c = only(&base(), &new, ChangeKind::VariantAdded);
        assert_eq!(c.class, Class::NonBreaking);
        assert!(c.reason.contains("role=developer"), "{}", c.reason);
        assert_eq!(only(&new, &base(), ChangeKind::VariantRemoved).class, Class::Breaking);
    }

    #[test]
    fn operation_rename_status_and_removal() {
        let mut renamed = base();
        renamed["paths"]["/v1/chat/completions"]["post"]["operationId"] = json!("chat_v2");
        assert_eq!(
            only(&base(), &renamed, ChangeKind::OperationRenamed).class,
            Class::NonBreaking
        );

        let mut created = base();
        let post = &mut created["paths"]["/v1/chat/completions"]["post"];
        let ok = post["responses"]["200"].take();
        post["responses"] = json!({"201": ok});
        assert_eq!(
            only(&base(), &created, ChangeKind::SuccessStatusChanged).class,
            Class::NonBreaking
        );

        let mut moved = base();
        let item = moved["paths"]["/v1/chat/completions"].take();
        moved["paths"] = json!({"/openai/deployments/{model}": item});
        let d = diff("old", &base(), "new", &moved);
        let kinds: Vec<(ChangeKind, Class)> = d.changes.iter().map(|c| (c.kind, c.class)).collect();
        assert_eq!(
            kinds,
            vec![
                (ChangeKind::OperationRemoved, Class::Breaking),
                (ChangeKind::OperationAdded, Class::NonBreaking)
            ]
        );
        // And back: removing a path the client never called is harmless.
        let d = diff("old", &moved, "new", &base());
        let kinds: Vec<(ChangeKind, Class)> = d.changes.iter().map(|c| (c.kind, c.class)).collect();
        assert_eq!(
            kinds,
            vec![
                (ChangeKind::OperationRemoved, Class::NonBreaking),
                (ChangeKind::OperationAdded, Class::NonBreaking)
            ]
        );
    }

    #[test]
    fn unreadable_new_document_is_breaking() {
        let mut bad = base();
        bad["paths"]["/v1/chat/completions"]["post"]["requestBody"] = json!({"content": {}});
        let c = only(&base(), &bad, ChangeKind::OperationUnreadable);
        assert_eq!(c.class, Class::Breaking);
        assert!(c.reason.contains("request body schema"), "{}", c.reason);
    }

    #[test]
    fn request_null_and_closed_objects() {
        let nullable = doc(
            request(json!({"reasoning": {"type": "string", "enum": ["low", "medium", "high"], "nullable": true}})),
            response(json!({}), json!(["id", "created"])),
        );
        assert_eq!(
            only(&base(), &nullable, ChangeKind::NullableAdded).class,
            Class::NonBreaking
        );
        assert_eq!(
            only(&nullable, &base(), ChangeKind::NullableRemoved).class,
            Class::Breaking
        );
        let mut closed = request(json!({}));
        closed["additionalProperties"] = json!(false);
        let new = doc(closed, response(json!({}), json!(["id", "created"])));
        assert_eq!(
            only(&base(), &new, ChangeKind::AdditionalPropertiesClosed).class,
            Class::Breaking
        );
    }

    #[test]
    fn text_rendering_groups_by_class() {
        let new = doc(
            request(json!({"temperature": null, "top_k": {"type": "integer"}})),
            response(json!({}), json!(["id", "created"])),
        );
        let text = diff("a.json", &base(), "b.json", &new).render_text();
        assert!(
            text.starts_with("a.json -> b.json\n1 breaking, 1 non-breaking, 0 docs-only\n"),
            "{text}"
        );
        let b = text.find("breaking:").unwrap();
        let n = text.find("non-breaking:").unwrap();
        assert!(b < n && text.contains("request.temperature removed"), "{text}");
    }
}
