//! The wire contract: what `client.chat(..)` puts on the wire, for requests
//! using every option the builder offers, is valid against the request schema
//! of the newest *published* version (read from `../shared`, not from our
//! own spec), and carries the right path and headers.

mod support;

use maverick::{ChatRequest, ContentPart, ImageDetail, Message, Tool, ToolCallRef, ToolChoice};
use serde_json::{json, Value};
use support::{client_for, shared_dir, Loopback, Recorded, Reply};

const NEWEST: &str = "upstream/llama-4-maverick/2026-01-16_ef7ca0ed.json";

/// OpenAPI 3.0 `nullable: true` → JSON Schema `anyOf [schema, {type: null}]`.
fn openapi_to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out: serde_json::Map<String, Value> = m
                .iter()
                .filter(|(k, _)| k.as_str() != "nullable")
                .map(|(k, v)| (k.clone(), openapi_to_json_schema(v)))
                .collect();
            // `properties` maps names to schemas; a property named `nullable` is not the keyword.
            if let Some(Value::Object(props)) = m.get("properties") {
                out.insert(
                    "properties".into(),
                    Value::Object(
                        props
                            .iter()
                            .map(|(k, v)| (k.clone(), openapi_to_json_schema(v)))
                            .collect(),
                    ),
                );
            }
            if m.get("nullable") == Some(&Value::Bool(true)) {
                json!({"anyOf": [Value::Object(out), {"type": "null"}]})
            } else {
                Value::Object(out)
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(openapi_to_json_schema).collect()),
        other => other.clone(),
    }
}

/// The request-body validator of the newest published version, or `None`
/// (with a printed reason) when `../shared` is absent.
fn published_request_validator() -> Option<jsonschema::Validator> {
    let shared = shared_dir("wire contract against the newest published spec")?;
    let path = shared.join(NEWEST);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
            .unwrap();
    let schema = doc
        .pointer("/paths/~1v1~1chat~1completions/post/requestBody/content/application~1json/schema")
        .expect("the newest version has a JSON request body schema");
    assert!(
        !schema.to_string().contains("\"$ref\""),
        "the newest version inlines its request schema"
    );
    let converted = openapi_to_json_schema(schema);
    Some(jsonschema::draft7::new(&converted).expect("the published request schema compiles"))
}

fn violations(validator: &jsonschema::Validator, body: &Value) -> Vec<String> {
    validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[derive(schemars::JsonSchema, serde::Deserialize)]
#[allow(dead_code)]
struct WeatherArgs {
    /// City name.
    city: String,
    /// Days ahead.
    days: Option<u8>,
    unit: Unit,
}

#[derive(schemars::JsonSchema, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Unit {
    Celsius,
    Fahrenheit,
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn every_message_kind(r: ChatRequest) -> ChatRequest {
    r.system("Be brief.")
        .message(Message::developer("Answer in English.").with_name("dev"))
        .user("What's the weather?")
        .message(Message::user_parts([
            ContentPart::text("And in this picture?"),
            ContentPart::image_url("https://example.com/cat.png").detail(ImageDetail::High),
            ContentPart::image_bytes(PNG).unwrap().detail(ImageDetail::Low),
        ]))
        .assistant("Let me check.")
        .message(Message::assistant_tool_calls(
            None,
            [ToolCallRef {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into(),
            }],
        ))
        .message(Message::tool("call_1", r#"{"temp":21}"#))
}

fn every_scalar_option(r: ChatRequest) -> ChatRequest {
    r.max_tokens(64)
        .max_completion_tokens(64)
        .temperature(0.7)
        .top_p(0.9)
        .top_k(40)
        .min_p(0.05)
        .n(2)
        .stop("\n\n")
        .stop("END")
        .seed(42)
        .frequency_penalty(0.5)
        .presence_penalty(-0.5)
        .repetition_penalty(1.1)
        .logit_bias(1234, -100.0)
        .logit_bias(5678, 5.0)
        .logprobs(true)
        .top_logprobs(3)
        .parallel_tool_calls(true)
}

fn tools(r: ChatRequest) -> ChatRequest {
    let hand_written = Tool::from_schema(
        "get_time",
        Some("Current time in a zone.".into()),
        json!({"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]}),
    )
    .unwrap();
    r.tool(Tool::function::<WeatherArgs>("get_weather", "Weather for a city."))
        .tool(hand_written)
}

/// The requests under test, named; together they use every builder option.
fn requests() -> Vec<(&'static str, ChatRequest)> {
    let full = || tools(every_scalar_option(every_message_kind(ChatRequest::new())));
    vec![
        ("minimal", ChatRequest::user_prompt("Hi")),
        ("everything, tool_choice auto", full().tool_choice(ToolChoice::Auto)),
        ("tool_choice none", full().tool_choice(ToolChoice::None)),
        ("tool_choice required", full().tool_choice(ToolChoice::Required)),
        ("tool_choice function", full().tool_choice(ToolChoice::Function("get_weather".into()))),
        ("json_object", full().json_object()),
        (
            "json_schema",
            full().json_schema(
                "answer",
                json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": false}),
                true,
            ),
        ),
        ("explicit model", ChatRequest::user_prompt("Hi").model("meta-llama/llama-4-maverick")),
    ]
}

fn completion() -> Value {
    json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "meta-llama/llama-4-maverick",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
}

fn check_headers(r: &Recorded, request_id: &str) {
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization"), Some("Bearer sk-test-SECRET-0123456789"));
    let ct = r.header("content-type").expect("content-type is sent");
    assert!(ct.starts_with("application/json"), "content-type {ct}");
    assert_eq!(r.header("x-client-request-id"), Some(request_id));
    let ua = r.header("user-agent").expect("user-agent is sent");
    assert!(ua.contains("maverick-rs/"), "user-agent {ua}");
    assert!(
        r.header("api-version").is_none(),
        "api-version must be stripped: {:?}",
        r.headers
    );
}

#[tokio::test]
async fn every_builder_option_produces_a_body_the_published_schema_accepts() {
    let Some(validator) = published_request_validator() else {
        return;
    };
    let server = Loopback::always(Reply::json(200, &completion())).await;
    let client = client_for(&server).build().unwrap();
    let mut failures = Vec::new();
    for (i, (name, request)) in requests().into_iter().enumerate() {
        let reply = client.chat(request).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let recorded = &server.requests()[i];
        check_headers(recorded, &reply.meta.request_id);
        let body = recorded.json();
        for v in violations(&validator, &body) {
            failures.push(format!("{name}: {v}"));
        }
    }
    assert!(
        failures.is_empty(),
        "bodies the published schema rejects:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_wire_body_carries_what_the_builder_set() {
    let server = Loopback::always(Reply::json(200, &completion())).await;
    let client = client_for(&server).build().unwrap();
    let request = tools(every_scalar_option(every_message_kind(ChatRequest::new())))
        .tool_choice(ToolChoice::Function("get_weather".into()));
    client.chat(request).await.unwrap();
    let body = server.requests()[0].json();
    assert_eq!(body["model"], "meta-llama/llama-4-maverick");
    assert_eq!(body["stream"], false);
    assert!(body.get("stream_options").is_none() || body["stream_options"].is_null());
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(
        roles,
        ["system", "developer", "user", "user", "assistant", "assistant", "tool"]
    );
    assert_eq!(body["messages"][1]["name"], "dev");
    let parts = &body["messages"][3]["content"];
    assert_eq!(parts[0], json!({"type": "text", "text": "And in this picture?"}));
    assert_eq!(
        parts[1]["image_url"],
        json!({"url": "https://example.com/cat.png", "detail": "high"})
    );
    assert!(parts[2]["image_url"]["url"]
        .as_str()
        .unwrap()
        .starts_with("data:image/png;base64,iVBORw0KGgo"));
    assert_eq!(body["messages"][5]["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(body["messages"][6]["tool_call_id"], "call_1");
    for (field, value) in [
        ("max_tokens", json!(64)),
        ("max_completion_tokens", json!(64)),
        ("temperature", json!(0.7)),
        ("top_p", json!(0.9)),
        ("top_k", json!(40)),
        ("min_p", json!(0.05)),
        ("n", json!(2)),
        ("stop", json!(["\n\n", "END"])),
        ("seed", json!(42)),
        ("frequency_penalty", json!(0.5)),
        ("presence_penalty", json!(-0.5)),
        ("repetition_penalty", json!(1.1)),
        ("logit_bias", json!({"1234": -100.0, "5678": 5.0})),
        ("logprobs", json!(true)),
        ("top_logprobs", json!(3)),
        ("parallel_tool_calls", json!(true)),
        (
            "tool_choice",
            json!({"type": "function", "function": {"name": "get_weather"}}),
        ),
    ] {
        assert_eq!(body[field], value, "{field}");
    }
    let weather = &body["tools"][0]["function"];
    assert_eq!(weather["name"], "get_weather");
    assert_eq!(weather["strict"], true);
    assert_eq!(weather["parameters"]["additionalProperties"], false);
    assert_eq!(
        weather["parameters"]["properties"]["unit"]["enum"],
        json!(["celsius", "fahrenheit"])
    );
    assert_eq!(body["tools"][1]["function"]["parameters"]["required"], json!(["zone"]));
}

#[tokio::test]
async fn response_formats_and_tool_choice_strings_on_the_wire() {
    let server = Loopback::always(Reply::json(200, &completion())).await;
    let client = client_for(&server).build().unwrap();
    client
        .chat(
            ChatRequest::user_prompt("x")
                .json_object()
                .tool_choice(ToolChoice::Required),
        )
        .await
        .unwrap();
    client
        .chat(
            ChatRequest::user_prompt("x")
                .json_schema("answer", json!({"type": "object"}), true)
                .tool_choice(ToolChoice::None),
        )
        .await
        .unwrap();
    let reqs = server.requests();
    assert_eq!(reqs[0].json()["response_format"], json!({"type": "json_object"}));
    assert_eq!(reqs[0].json()["tool_choice"], "required");
    let rf = &reqs[1].json()["response_format"];
    assert_eq!(rf["type"], "json_schema");
    assert_eq!(rf["json_schema"]["name"], "answer");
    assert_eq!(rf["json_schema"]["strict"], true);
    assert_eq!(reqs[1].json()["tool_choice"], "none");
}

/// Guards the test above: the validator really rejects bad bodies (a
/// validator that accepts everything would make it pass vacuously).
#[test]
fn validation_is_live() {
    let Some(validator) = published_request_validator() else {
        return;
    };
    let good = json!({"model": "meta-llama/llama-4-maverick", "messages": [{"role": "user", "content": "Hi"}]});
    assert!(
        violations(&validator, &good).is_empty(),
        "{:?}",
        violations(&validator, &good)
    );
    for bad in [
        json!({"model": "meta-llama/llama-4-maverick", "messages": [{"role": "user", "content": "Hi"}], "temperature": 7}),
        json!({"model": "meta-llama/llama-4-maverick", "messages": [{"role": "wizard", "content": "Hi"}]}),
        json!({"model": "meta-llama/llama-4-maverick"}),
        json!({"model": "meta-llama/llama-4-maverick", "messages": [{"role": "user", "content": "Hi"}], "n": "two"}),
    ] {
        assert!(
            !violations(&validator, &bad).is_empty(),
            "accepted an invalid body: {bad}"
        );
    }
    // nullable conversion: `null` is accepted where the spec says nullable, and only there.
    let converted = openapi_to_json_schema(
        &json!({"type": "object", "properties": {"a": {"type": "string", "nullable": true}, "b": {"type": "string"}}}),
    );
    let v = jsonschema::draft7::new(&converted).unwrap();
    assert!(v.is_valid(&json!({"a": null})));
    assert!(!v.is_valid(&json!({"b": null})));
}
