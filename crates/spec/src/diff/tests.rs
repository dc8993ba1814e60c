//! Unit tests of the diff over small published-style documents.

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
        request(json!({"temperature": {"type": "number", "minimum": 0, "maximum": 2, "description": "How random."}})),
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
    // The reading side is open (no enums once normalised): a value the
    // response gains changes nothing the client decodes.
    assert!(!diff("old", &base(), "new", &more).has_breaking());
}

#[test]
fn response_fields() {
    // An optional response field is nullable once normalised, so dropping
    // `required` shows as both.
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
    // An optional field is nullable once normalised already: making it
    // nullable in the published document changes nothing at all.
    let optional_nullable = doc(
        request(json!({})),
        response(
            json!({"finish": {"type": "string", "enum": ["stop", "length"], "nullable": true}}),
            json!(["id", "created"]),
        ),
    );
    assert_eq!(changes(&base(), &optional_nullable), vec![]);
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
