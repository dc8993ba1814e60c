//! Synthetic next releases of the published document, one mutation each,
//! for the evolution suite (`.ci/spec-evolution`).
//!
//! The input is a document in the provider's published shape (inline
//! schemas under the operation, as in the newest version and in
//! `spec/llama-4-maverick.json`). Every mutation is applied identically to
//! the chat-completions operation under every path it is published at
//! (`/v1/chat/completions` and `/chat/completions`), because the normaliser
//! refuses divergent duplicates.
//!
//! [`cases`] returns, in a stable order:
//!
//! * additive: a new optional property (`x_evolution_probe`, typed string,
//!   integer, object with a nested property or string enum) on every object
//!   schema of the request, the JSON response and the stream chunk, nested
//!   ones included; a new value in every request enum and every response or
//!   chunk enum; a new optional nested object on each root; a request
//!   property and an optional response property made nullable; changed
//!   descriptions; changed examples;
//! * breaking: request and response properties removed, types changed, a
//!   new required request property, request enum values removed, the path
//!   moved.
//!
//! [`combined`] applies every additive mutation to one document: the
//! "additive release" the library must regenerate from without a
//! handwritten change.

use serde_json::{json, Value};

/// What a release with this mutation is to a user of the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseClass {
    /// `spec diff` must say non-breaking or docs-only, and the library must
    /// regenerate and pass its tests without a handwritten change.
    Additive,
    /// `spec diff` must say breaking, with a reason; the build must succeed
    /// or stop in the build guard, never in handwritten code.
    Breaking,
}

impl CaseClass {
    /// `additive` or `breaking`, as written in reports and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseClass::Additive => "additive",
            CaseClass::Breaking => "breaking",
        }
    }
}

/// One synthetic release.
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique, usable as a file name: `add-property.response.choices.message`.
    pub name: String,
    /// What `spec diff` and the build must make of this release.
    pub class: CaseClass,
    /// What changed, for a reader.
    pub what: String,
    /// The whole mutated document.
    pub doc: Value,
}

/// The name of the property the probes add.
pub const PROBE: &str = "x_evolution_probe";
/// The name of the nested object the nested-object cases add.
pub const NESTED: &str = "x_evolution_nested";
/// The value the enum cases add.
pub const ENUM_VALUE: &str = "x_evolution_value";

const PATHS: &[&str] = &["/v1/chat/completions", "/chat/completions"];

/// The roots inside an operation, as JSON pointers relative to the operation.
fn roots(op: &Value) -> Vec<(&'static str, String)> {
    let mut out = vec![("request", "/requestBody/content/application~1json/schema".to_string())];
    let mut codes: Vec<&String> = op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
        .filter(|k| k.starts_with('2'))
        .collect();
    codes.sort();
    if let Some(code) = codes.first() {
        let base = format!("/responses/{code}/content");
        out.push(("response", format!("{base}/application~1json/schema")));
        out.push(("chunk", format!("{base}/text~1event-stream/schema")));
    }
    out.retain(|(_, p)| op.pointer(p).is_some());
    out
}

/// The operation the walk reads: the first published path with a POST.
fn template(doc: &Value) -> Option<&Value> {
    PATHS.iter().find_map(|p| doc.get("paths")?.get(*p)?.get("post"))
}

/// Applies `f` to the operation under every published path.
fn for_each_op(doc: &mut Value, f: &dyn Fn(&mut Value)) {
    for p in PATHS {
        if let Some(op) = doc
            .get_mut("paths")
            .and_then(|ps| ps.get_mut(*p))
            .and_then(|i| i.get_mut("post"))
        {
            f(op);
        }
    }
}

/// A schema site found by the walk.
#[derive(Debug, Clone)]
struct Site {
    /// JSON pointer relative to the operation.
    pointer: String,
    /// Readable path: `response.choices[].message`, `request.messages[role=user]`.
    label: String,
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Calls `visit` on every inline schema under `schema` (not behind `$ref`).
fn walk(schema: &Value, pointer: &str, label: &str, visit: &mut dyn FnMut(&Value, &Site)) {
    if !schema.is_object() || schema.get("$ref").is_some() {
        return;
    }
    visit(
        schema,
        &Site {
            pointer: pointer.to_string(),
            label: label.to_string(),
        },
    );
    if let Some(props) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            walk(
                v,
                &format!("{pointer}/properties/{}", escape(k)),
                &format!("{label}.{k}"),
                visit,
            );
        }
    }
    if let Some(items) = schema.get("items") {
        walk(items, &format!("{pointer}/items"), &format!("{label}[]"), visit);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for (i, branch) in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            walk(
                branch,
                &format!("{pointer}/{key}/{i}"),
                &format!("{label}{}", branch_label(branch, key, i)),
                visit,
            );
        }
    }
    if let Some(extra) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        walk(
            extra,
            &format!("{pointer}/additionalProperties"),
            &format!("{label}.*"),
            visit,
        );
    }
}

/// `[role=user]` for a branch tagged by a one-value enum, else `<anyOf1>`.
fn branch_label(branch: &Value, key: &str, i: usize) -> String {
    for tag in ["role", "type"] {
        if let Some([Value::String(v)]) = branch
            .pointer(&format!("/properties/{tag}/enum"))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            return format!("[{tag}={v}]");
        }
    }
    format!("<{key}{i}>")
}

/// Every site of the template operation for which `keep` holds.
fn sites(doc: &Value, keep: &dyn Fn(&Value) -> bool) -> Vec<Site> {
    let Some(op) = template(doc) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (root, pointer) in roots(op) {
        if let Some(schema) = op.pointer(&pointer) {
            walk(schema, &pointer, root, &mut |s, site| {
                if keep(s) {
                    out.push(site.clone());
                }
            });
        }
    }
    out
}

/// Object schemas with listed properties (maps and free-form objects would
/// change type if given a property, so they are not probed).
fn is_object_with_properties(s: &Value) -> bool {
    s.get("properties").is_some_and(Value::is_object)
}

/// A closed set of at least two strings: a real enum, not a one-value tag.
fn is_string_enum(s: &Value) -> bool {
    s.get("enum")
        .and_then(Value::as_array)
        .is_some_and(|e| e.len() >= 2 && e.iter().all(Value::is_string))
}

/// File-name-safe form of a label.
fn slug(label: &str) -> String {
    let mut out = String::new();
    for ch in label.chars() {
        match ch {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | '.' => out.push(ch),
            '=' | '<' => out.push('-'),
            '[' => out.push('.'),
            _ => {}
        }
    }
    while out.contains("..") {
        out = out.replace("..", ".");
    }
    out.trim_matches('.').to_string()
}

/// The probe's type varies with the site (the label without its root, so
/// the same place in the response and the chunk gets the same type).
fn probe(label: &str) -> Value {
    let key = label.split_once('.').map_or("", |(_, rest)| rest);
    let hash = key.bytes().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    let description = "Added by the evolution suite.";
    match hash % 4 {
        0 => json!({"type": "string", "description": description}),
        1 => json!({"type": "integer", "description": description}),
        2 => json!({"type": "object", "description": description,
                    "properties": {"note": {"type": "string", "description": "A nested probe."}}}),
        _ => json!({"type": "string", "enum": ["alpha", "beta"], "description": description}),
    }
}

/// A mutation of the whole document; the `Case` is built around it.
struct Mutation {
    name: String,
    class: CaseClass,
    what: String,
    apply: Box<dyn Fn(&mut Value)>,
}

fn at_site(pointer: String, f: impl Fn(&mut Value) + 'static) -> Box<dyn Fn(&mut Value)> {
    Box::new(move |doc: &mut Value| {
        for_each_op(doc, &|op| {
            if let Some(s) = op.pointer_mut(&pointer) {
                f(s);
            }
        })
    })
}

fn additive(base: &Value) -> Vec<Mutation> {
    let mut out = Vec::new();
    // Documentation first, so that in the combined release the probes
    // added later keep their own descriptions.
    out.push(Mutation {
        name: "docs.descriptions".into(),
        class: CaseClass::Additive,
        what: "every description of the operation and its schemas reworded".into(),
        apply: Box::new(|doc| for_each_op(doc, &|op| reword(op))),
    });
    out.push(Mutation {
        name: "docs.examples".into(),
        class: CaseClass::Additive,
        what: "examples added to or changed on every request property".into(),
        apply: Box::new(|doc| {
            for_each_op(doc, &|op| {
                if let Some(props) = op
                    .pointer_mut("/requestBody/content/application~1json/schema/properties")
                    .and_then(Value::as_object_mut)
                {
                    for (k, v) in props.iter_mut() {
                        if let Some(m) = v.as_object_mut() {
                            m.insert("example".into(), json!(format!("evolution example for {k}")));
                        }
                    }
                }
                op["x-codeSamples"] = json!([{"lang": "sh", "source": "curl https://example.invalid"}]);
            })
        }),
    });
    for site in sites(base, &is_object_with_properties) {
        if template(base)
            .and_then(|op| op.pointer(&format!("{}/properties/{PROBE}", site.pointer)))
            .is_some()
        {
            continue;
        }
        let value = probe(&site.label);
        let ty = value["type"].as_str().unwrap_or("?").to_string();
        let ty = if value.get("enum").is_some() { "enum".into() } else { ty };
        out.push(Mutation {
            name: format!("add-property.{}", slug(&site.label)),
            class: CaseClass::Additive,
            what: format!("new optional {ty} property {PROBE} on {}", site.label),
            apply: at_site(site.pointer, move |s| {
                if let Some(p) = s.get_mut("properties").and_then(Value::as_object_mut) {
                    p.insert(PROBE.into(), value.clone());
                }
            }),
        });
    }
    for site in sites(base, &is_string_enum) {
        let root = site.label.split('.').next().unwrap_or("");
        let side = if root == "request" { "request" } else { "response" };
        out.push(Mutation {
            name: format!("enum-value.{}", slug(&site.label)),
            class: CaseClass::Additive,
            what: format!("new {side} enum value {ENUM_VALUE:?} in {}", site.label),
            apply: at_site(site.pointer, |s| {
                if let Some(e) = s.get_mut("enum").and_then(Value::as_array_mut) {
                    e.push(json!(ENUM_VALUE));
                }
            }),
        });
    }
    if let Some(op) = template(base) {
        for (root, pointer) in roots(op) {
            out.push(Mutation {
                name: format!("nested-object.{root}"),
                class: CaseClass::Additive,
                what: format!("new optional nested object {NESTED} on {root}"),
                apply: at_site(pointer, |s| {
                    if let Some(p) = s.get_mut("properties").and_then(Value::as_object_mut) {
                        p.insert(
                            NESTED.into(),
                            json!({"type": "object", "description": "Added by the evolution suite.", "properties": {
                                "inner": {"type": "object", "properties": {
                                    "value": {"type": "string"},
                                    "count": {"type": "integer"}
                                }}
                            }}),
                        );
                    }
                }),
            });
        }
        // Nullable: an optional request property, and an optional response
        // property (already `Option<T>` in Rust, so null changes nothing).
        for (root, candidates) in [
            ("request", &["top_k", "seed", "temperature"][..]),
            ("response", &["system_fingerprint", "service_tier", "usage"][..]),
        ] {
            let Some((_, pointer)) = roots(op).into_iter().find(|(r, _)| *r == root) else {
                continue;
            };
            let Some(schema) = op.pointer(&pointer) else { continue };
            let required = required_of(schema);
            let Some(name) = candidates.iter().find(|n| {
                schema.pointer(&format!("/properties/{n}")).is_some_and(|p| {
                    p.get("nullable") != Some(&Value::Bool(true)) && p.get("$ref").is_none() && p.get("type").is_some()
                }) && !required.contains(&n.to_string())
            }) else {
                continue;
            };
            out.push(Mutation {
                name: format!("nullable.{root}.{name}"),
                class: CaseClass::Additive,
                what: format!("optional property {root}.{name} made nullable"),
                apply: at_site(format!("{pointer}/properties/{name}"), |s| {
                    s["nullable"] = Value::Bool(true);
                }),
            });
        }
    }
    out
}

fn required_of(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Rewords every description (and the summary) under `v`.
fn reword(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match (k.as_str(), x) {
                    ("description" | "summary", Value::String(s)) => s.push_str(" (Reworded.)"),
                    // A property called `description` is a schema, not prose.
                    (_, x) => reword(x),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(reword),
        _ => {}
    }
}

fn breaking(base: &Value) -> Vec<Mutation> {
    let mut out = Vec::new();
    let Some(op) = template(base) else {
        return out;
    };
    let root = |name: &str| roots(op).into_iter().find(|(r, _)| *r == name).map(|(_, p)| p);
    let exists = |p: &str| op.pointer(p).is_some();

    let mut remove = |root_name: &str, parent: &str, field: &str, why: &str| {
        let Some(r) = root(root_name) else { return };
        let parent_ptr = format!("{r}{parent}");
        if !exists(&format!("{parent_ptr}/properties/{field}")) {
            return;
        }
        let label = format!("{root_name}{}.{field}", readable(parent));
        let field = field.to_string();
        out.push(Mutation {
            name: format!("remove-property.{}", slug(&label)),
            class: CaseClass::Breaking,
            what: format!("property {label} removed ({why})"),
            apply: at_site(parent_ptr, move |s| {
                if let Some(p) = s.get_mut("properties").and_then(Value::as_object_mut) {
                    p.remove(&field);
                }
                if let Some(r) = s.get_mut("required").and_then(Value::as_array_mut) {
                    r.retain(|x| x.as_str() != Some(field.as_str()));
                }
            }),
        });
    };
    remove("request", "", "top_k", "not listed in the build guard's requirements");
    remove("request", "", "seed", "listed in the build guard's requirements");
    remove("response", "", "id", "not listed in the build guard's requirements");
    remove(
        "chunk",
        "/properties/choices/items/properties/delta",
        "content",
        "the text of a stream",
    );

    let mut retype = |root_name: &str, field: &str, to: Value| {
        let Some(r) = root(root_name) else { return };
        let ptr = format!("{r}/properties/{field}");
        if !exists(&ptr) {
            return;
        }
        let label = format!("{root_name}.{field}");
        let ty = to["type"].as_str().unwrap_or("?").to_string();
        out.push(Mutation {
            name: format!("type-changed.{}", slug(&label)),
            class: CaseClass::Breaking,
            what: format!("type of {label} changed to {ty}"),
            apply: at_site(ptr, move |s| *s = to.clone()),
        });
    };
    retype("request", "temperature", json!({"type": "string"}));
    retype("response", "created", json!({"type": "string"}));

    if let Some(r) = root("request") {
        out.push(Mutation {
            name: "required-property.request".into(),
            class: CaseClass::Breaking,
            what: "new required request property x_evolution_required".into(),
            apply: at_site(r, |s| {
                if let Some(p) = s.get_mut("properties").and_then(Value::as_object_mut) {
                    p.insert("x_evolution_required".into(), json!({"type": "string"}));
                }
                let req = s
                    .as_object_mut()
                    .map(|m| m.entry("required").or_insert_with(|| json!([])));
                if let Some(Value::Array(a)) = req {
                    a.push(json!("x_evolution_required"));
                }
            }),
        });
    }
    let request_enums: Vec<Site> = sites(base, &is_string_enum)
        .into_iter()
        .filter(|s| s.label.starts_with("request"))
        .collect();
    for site in request_enums {
        let last = op
            .pointer(&format!("{}/enum", site.pointer))
            .and_then(Value::as_array)
            .and_then(|e| e.last())
            .cloned()
            .unwrap_or(Value::Null);
        out.push(Mutation {
            name: format!("enum-value-removed.{}", slug(&site.label)),
            class: CaseClass::Breaking,
            what: format!("request enum value {last} removed from {}", site.label),
            apply: at_site(site.pointer, move |s| {
                if let Some(e) = s.get_mut("enum").and_then(Value::as_array_mut) {
                    e.retain(|v| v != &last);
                }
            }),
        });
    }
    out.push(Mutation {
        name: "path-moved".into(),
        class: CaseClass::Breaking,
        what: "the operation moved to /v2/chat/completions".into(),
        apply: Box::new(|doc| {
            let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
                return;
            };
            let mut item = None;
            for p in PATHS {
                if let Some(i) = paths.remove(*p) {
                    item.get_or_insert(i);
                }
            }
            if let Some(i) = item {
                paths.insert("/v2/chat/completions".into(), i);
            }
        }),
    });
    out
}

/// `/properties/choices/items/properties/delta` → `.choices[].delta`.
fn readable(pointer: &str) -> String {
    pointer
        .replace("/properties/", ".")
        .replace("/items", "[]")
        .trim_end_matches('/')
        .to_string()
}

fn build(base: &Value, m: Mutation) -> Case {
    let mut doc = base.clone();
    (m.apply)(&mut doc);
    Case {
        name: m.name,
        class: m.class,
        what: m.what,
        doc,
    }
}

/// Every case, additive ones first, each from `base` with one mutation.
pub fn cases(base: &Value) -> Vec<Case> {
    let mut out: Vec<Case> = additive(base)
        .into_iter()
        .chain(breaking(base))
        .map(|m| build(base, m))
        .collect();
    // Names are unique (a slug collision gets a counter).
    let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
    for c in &mut out {
        let count = seen.entry(c.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            c.name = format!("{}.{count}", c.name);
        }
    }
    out
}

/// One document with every additive mutation applied, in order.
pub fn combined(base: &Value) -> Value {
    let mut doc = base.clone();
    for m in additive(base) {
        (m.apply)(&mut doc);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../spec/llama-4-maverick.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// Pointers where `a` and `b` differ (the first differing node on each branch).
    fn places(a: &Value, b: &Value, at: String, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    match (x.get(k), y.get(k)) {
                        (Some(p), Some(q)) => places(p, q, format!("{at}/{}", escape(k)), out),
                        _ => out.push(format!("{at}/{}", escape(k))),
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    places(p, q, format!("{at}/{i}"), out);
                }
            }
            _ if a != b => out.push(at),
            _ => {}
        }
    }

    fn diff_places(a: &Value, b: &Value) -> Vec<String> {
        let mut out = Vec::new();
        places(a, b, String::new(), &mut out);
        out
    }

    #[test]
    fn probes_cover_every_object_schema_of_request_response_and_chunk() {
        let base = ours();
        let objects = sites(&base, &is_object_with_properties);
        let labels: Vec<&str> = objects.iter().map(|s| s.label.as_str()).collect();
        for expected in [
            "request",
            "request.messages[][role=user]",
            "request.tools[].function",
            "response",
            "response.choices[]",
            "response.choices[].message",
            "response.choices[].message.tool_calls[][type=function].function",
            "response.choices[].logprobs",
            "response.usage",
            "response.usage.completion_tokens_details",
            "response.usage.prompt_tokens_details",
            "chunk",
            "chunk.choices[].delta",
            "chunk.choices[].delta.tool_calls[]",
            "chunk.choices[].delta.tool_calls[].function",
            "chunk.usage",
        ] {
            assert!(labels.contains(&expected), "{expected} missing from {labels:#?}");
        }
        let all = cases(&base);
        let probes = all.iter().filter(|c| c.name.starts_with("add-property.")).count();
        assert_eq!(probes, objects.len());
        assert!(probes >= 50, "{probes}");
        // All four probe types occur.
        let whats: String = all.iter().map(|c| c.what.clone()).collect();
        for ty in ["string", "integer", "object", "enum"] {
            assert!(whats.contains(&format!("optional {ty} property")), "{ty}");
        }
        let enums: Vec<&str> = all
            .iter()
            .filter(|c| c.name.starts_with("enum-value."))
            .map(|c| c.what.as_str())
            .collect();
        assert!(enums.iter().any(|w| w.contains("request enum value")), "{enums:?}");
        assert!(enums.iter().any(|w| w.contains("chunk.service_tier")), "{enums:?}");
        assert!(
            enums.iter().any(|w| w.contains("response.choices[].finish_reason")),
            "{enums:?}"
        );
        for name in [
            "nested-object.request",
            "nested-object.response",
            "nested-object.chunk",
            "nullable.request.top_k",
            "docs.descriptions",
            "docs.examples",
            "remove-property.request.top_k",
            "type-changed.request.temperature",
            "required-property.request",
            "enum-value-removed.request.tool_choice-anyOf0",
            "path-moved",
        ] {
            assert!(all.iter().any(|c| c.name == name), "{name} missing");
        }
        let names: std::collections::BTreeSet<&str> = all.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names.len(), all.len(), "names are unique");
    }

    #[test]
    fn each_case_changes_one_place_the_same_way_on_both_paths() {
        let base = ours();
        for case in cases(&base) {
            let places = diff_places(&base, &case.doc);
            assert!(!places.is_empty(), "{} changes nothing", case.name);
            if case.name == "path-moved" || case.name.starts_with("docs.") {
                continue;
            }
            let v1: Vec<&str> = places
                .iter()
                .filter_map(|p| p.strip_prefix("/paths/~1v1~1chat~1completions/post"))
                .collect();
            let bare: Vec<&str> = places
                .iter()
                .filter_map(|p| p.strip_prefix("/paths/~1chat~1completions/post"))
                .collect();
            assert_eq!(v1, bare, "{}: both paths change alike", case.name);
            // One place per path, plus the `required` list when a required
            // property is added or removed.
            // A type change rewrites one property schema (type, bounds).
            let main: std::collections::BTreeSet<&str> = v1
                .iter()
                .filter(|p| !p.ends_with("/required"))
                .map(|p| {
                    if case.name.starts_with("type-changed") {
                        p.rsplit_once('/').unwrap().0
                    } else {
                        p
                    }
                })
                .collect();
            assert_eq!(main.len(), 1, "{}: {places:#?}", case.name);
            assert_eq!(places.len(), 2 * v1.len(), "{}: {places:#?}", case.name);
        }
    }

    #[test]
    fn every_case_normalises_except_the_moved_path() {
        let base = ours();
        for case in cases(&base) {
            let result = crate::normalize(case.doc.clone());
            if case.name == "path-moved" {
                assert!(result.is_err());
            } else {
                assert!(result.is_ok(), "{}: {:?}", case.name, result.err());
            }
        }
    }

    #[test]
    fn combined_holds_every_additive_change() {
        let base = ours();
        let all = combined(&base);
        for case in cases(&base).into_iter().filter(|c| c.class == CaseClass::Additive) {
            for p in diff_places(&base, &case.doc) {
                if case.name.starts_with("enum-value.") {
                    // The value is appended: look for it in the array.
                    let values = all.pointer(&p).and_then(Value::as_array).unwrap();
                    assert!(values.contains(&json!(ENUM_VALUE)), "{}", case.name);
                    continue;
                }
                assert_eq!(all.pointer(&p), case.doc.pointer(&p), "{} at {p}", case.name);
            }
        }
        let d = crate::diff::diff("base", &base, "combined", &all);
        assert_eq!(d.summary.breaking, 0, "{}", d.render_text());
        assert_eq!(d.semver.impact, crate::diff::Semver::Minor);
    }

    #[test]
    fn spec_diff_classifies_every_case_as_its_class_says() {
        let base = ours();
        for case in cases(&base) {
            let d = crate::diff::diff("base", &base, &case.name, &case.doc);
            match case.class {
                CaseClass::Additive => {
                    assert_eq!(d.summary.breaking, 0, "{}:\n{}", case.name, d.render_text())
                }
                CaseClass::Breaking => {
                    assert!(d.summary.breaking > 0, "{}:\n{}", case.name, d.render_text());
                    assert!(d.changes.iter().all(|c| !c.reason.is_empty()));
                }
            }
        }
    }
}
