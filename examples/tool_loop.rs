//! A tool loop: the model asks for `get_weather`, the handler answers, the
//! model replies with the result in hand.
//!
//! Runs against the real API when `AIML_API_KEY` (or `AIMLAPI_API_KEY`) is
//! set, and against the embedded contract mock otherwise, so it works
//! offline and in CI:
//!
//! ```text
//! cargo run --example tool_loop
//! ```

#[path = "support/mod.rs"]
mod support;

use std::process::ExitCode;

use maverick::{ChatRequest, Tool, ToolChoice};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Unit {
    Celsius,
    Fahrenheit,
}

/// The schema the model sees is derived from this type, and the model's
/// arguments are parsed back into it before the handler runs.
#[derive(Debug, Deserialize, JsonSchema)]
struct WeatherArgs {
    /// City name, e.g. "Paris".
    city: String,
    unit: Unit,
}

#[derive(Debug, Serialize)]
struct Weather {
    city: String,
    temperature: f64,
    unit: &'static str,
    sky: &'static str,
}

/// Stands in for a weather service; a fixed table keeps the example
/// self-contained and its output reproducible.
async fn get_weather(args: WeatherArgs) -> Result<Weather, String> {
    let celsius = match args.city.to_lowercase().as_str() {
        "paris" => 18.0,
        "oslo" => 4.0,
        "cairo" => 31.0,
        _ => 21.0,
    };
    let (temperature, unit) = match args.unit {
        Unit::Celsius => (celsius, "celsius"),
        Unit::Fahrenheit => (celsius * 9.0 / 5.0 + 32.0, "fahrenheit"),
    };
    Ok(Weather {
        city: args.city,
        temperature,
        unit,
        sky: "clear",
    })
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _mock) = support::connect().await?;
    let request = ChatRequest::new()
        .system("Answer weather questions with the get_weather tool, then reply in one sentence.")
        .user("What is the weather in Paris right now, in celsius? Use get_weather.")
        .tool(Tool::function::<WeatherArgs>(
            "get_weather",
            "Current weather for a city",
        ))
        .tool_choice(ToolChoice::Auto);

    let outcome = client
        .tool_loop()
        .handler("get_weather", get_weather)
        .max_rounds(4)
        .run(request)
        .await?;

    println!("rounds: {}, completed: {}", outcome.rounds, outcome.completed);
    for message in &outcome.messages {
        println!("  {}", serde_json::to_string(&message.clone().into_inner()?)?);
    }
    match outcome.response.text() {
        Some(text) if outcome.completed => println!("answer: {text}"),
        _ => println!(
            "no final answer within the round limit; last tool calls: {:?}",
            outcome.response.tool_calls()
        ),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    support::report(run().await)
}
