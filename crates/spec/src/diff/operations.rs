//! Operations, from the raw documents: paths, methods, operationIds,
//! success codes, parameters and operation-level prose.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{push, Change, ChangeKind, Class};
use crate::error::escape;
use crate::Normalized;

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

pub(super) fn operations(old: &Value, new: &Value, old_n: Option<&Normalized>, out: &mut Vec<Change>) {
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
