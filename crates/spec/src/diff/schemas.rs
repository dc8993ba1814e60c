//! Schemas, from the normalised documents: fields, types, enums, variants,
//! bounds, nullability, each judged from the side that sends the data.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use super::{push, Change, ChangeKind, Class};
use crate::error::escape;
use crate::{names, Normalized};

/// Which side sends the data decides whether widening or narrowing hurts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Request,
    Response,
}

pub(super) fn schemas(old: &Normalized, new: &Normalized, out: &mut Vec<Change>) {
    let mut w = Walker {
        old: &old.document,
        new: &new.document,
        seen: HashSet::new(),
        optional_field: false,
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
    /// Set just before comparing a property that is optional on both sides:
    /// its Rust type is `Option<T>` already, so null adds nothing to handle.
    optional_field: bool,
    out: &'o mut Vec<Change>,
}

impl Walker<'_, '_> {
    fn add(&mut self, kind: ChangeKind, class: Class, location: &str, reason: String) {
        push(self.out, kind, class, location, reason);
    }

    fn compare(&mut self, a: &Node<'_>, b: &Node<'_>, dir: Dir, path: &str) {
        let optional_field = std::mem::take(&mut self.optional_field);
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
                (true, Dir::Response) if optional_field => (
                    ChangeKind::NullableAdded,
                    Class::NonBreaking,
                    "it may now be null, which reads like absent (it was optional already)",
                ),
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
                        // Regenerating is what makes it decodable: the
                        // update adds a variant, it removes nothing.
                        Dir::Response => (
                            Class::NonBreaking,
                            "a new variant once regenerated (the current client refuses it until then)",
                        ),
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
                    self.optional_field = !ra.contains(name) && !rb.contains(name);
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
                Dir::Response => (
                    Class::NonBreaking,
                    "a new variant once regenerated (the current client refuses it until then)",
                ),
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
