//! Requests built by this library, sent to Prism mocking the newest
//! published spec with request validation on: none may be refused (422).
//! `.ci/contract/run-all` starts Prism and sets `MAVERICK_PRISM_URL`;
//! elsewhere this test prints why it skips.

use maverick::{ChatRequest, Client, ContentPart, ImageDetail, Message, Tool, ToolChoice};

fn prism() -> Option<String> {
    match std::env::var("MAVERICK_PRISM_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            println!(
                "SKIPPED prism_contract: MAVERICK_PRISM_URL is not set (.ci/contract/run-all starts Prism and sets it)"
            );
            None
        }
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

fn every_option_requests() -> Vec<(&'static str, ChatRequest)> {
    let weather =
        serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
    vec![
        ("minimal", ChatRequest::user_prompt("Hello")),
        (
            "sampling",
            ChatRequest::new()
                .system("Be brief.")
                .user("Hi")
                .max_tokens(16)
                .max_completion_tokens(16)
                .temperature(0.7)
                .top_p(0.9)
                .top_k(40)
                .min_p(0.05)
                .n(2)
                .stop("END")
                .stop("STOP")
                .seed(42)
                .frequency_penalty(0.5)
                .presence_penalty(-0.5)
                .repetition_penalty(1.1)
                .logit_bias(1234, -50.0)
                .logprobs(true)
                .top_logprobs(3),
        ),
        (
            "conversation",
            ChatRequest::new()
                .message(Message::developer("Answer in French."))
                .message(Message::user("Bonjour").with_name("ann"))
                .assistant("Salut")
                .message(Message::user_parts([
                    ContentPart::text("What is this?"),
                    ContentPart::image_url("https://example.com/cat.png").detail(ImageDetail::High),
                    ContentPart::image_bytes(PNG).unwrap().detail(ImageDetail::Low),
                ])),
        ),
        (
            "tools",
            ChatRequest::user_prompt("Weather in Paris?")
                .tool(Tool::from_schema("get_weather", Some("Weather for a city".into()), weather.clone()).unwrap())
                .tool_choice(ToolChoice::Function("get_weather".into()))
                .parallel_tool_calls(false),
        ),
        (
            "tool result",
            ChatRequest::new()
                .user("Weather in Paris?")
                .message(Message::assistant_tool_calls(
                    None,
                    [maverick::ToolCallRef {
                        id: "call_1".into(),
                        name: "get_weather".into(),
                        arguments: r#"{"city":"Paris"}"#.into(),
                    }],
                ))
                .message(Message::tool("call_1", r#"{"temp_c":21}"#))
                .tool_choice(ToolChoice::Auto),
        ),
        (
            "json object",
            ChatRequest::user_prompt("JSON please")
                .json_object()
                .tool_choice(ToolChoice::None),
        ),
        (
            "json schema",
            ChatRequest::user_prompt("JSON please")
                .json_schema("answer", weather, true)
                .tool_choice(ToolChoice::Required),
        ),
    ]
}

#[tokio::test]
async fn prism_accepts_every_request_the_library_builds() {
    let Some(url) = prism() else { return };
    let client = Client::builder()
        .api_key("ci-key")
        .base_url(url.clone())
        .max_retries(0)
        .build()
        .unwrap();
    let mut refused = Vec::new();
    for (name, request) in every_option_requests() {
        match client.chat(request).await {
            Ok(_) => println!("prism accepted: {name}"),
            Err(e) if e.status() == Some(422) || e.status() == Some(400) => refused.push(format!("{name}: {e}")),
            Err(e) => println!("prism accepted {name} (its generated reply did not decode: {e})"),
        }
    }
    assert!(
        refused.is_empty(),
        "Prism refused requests the library built:\n{}",
        refused.join("\n")
    );

    // Validation must be live: an out-of-bounds body sent raw is refused.
    let raw = reqwest::Client::new()
        .post(format!("{url}/v1/chat/completions"))
        .json(&serde_json::json!({"model": "meta-llama/llama-4-maverick", "messages": [{"role": "user", "content": "x"}], "temperature": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw.status().as_u16(),
        422,
        "Prism is not validating requests: {}",
        raw.text().await.unwrap_or_default()
    );
}
