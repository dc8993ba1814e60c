//! Structured output: the answer arrives as a Rust value, checked against
//! the same type whose JSON Schema was sent as `response_format`.
//!
//! Runs against the real API when `AIML_API_KEY` (or `AIMLAPI_API_KEY`) is
//! set, and against the embedded contract mock otherwise:
//!
//! ```text
//! cargo run --example structured_output
//! ```

#[path = "support/mod.rs"]
mod support;

use std::process::ExitCode;

use maverick::{ChatRequest, Error};
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
enum Continent {
    Africa,
    Antarctica,
    Asia,
    Europe,
    NorthAmerica,
    Oceania,
    SouthAmerica,
}

/// Facts about a city. `Option` fields become nullable-but-required in the
/// strict schema, which is what strict mode on the API demands.
#[derive(Debug, Deserialize, JsonSchema)]
struct CityFacts {
    name: String,
    country: String,
    continent: Continent,
    /// Inhabitants of the city proper, if known.
    population: Option<u64>,
    landmarks: Vec<String>,
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _mock) = support::connect().await?;
    let request = ChatRequest::new()
        .system("Reply with JSON only.")
        .user("Give facts about Lisbon as JSON: name, country, continent, population, three landmarks.");
    match client.chat_structured::<CityFacts>(request).await {
        Ok(answer) => {
            let city = answer.value;
            println!("{} ({}, {:?})", city.name, city.country, city.continent);
            match city.population {
                Some(n) => println!("population: {n}"),
                None => println!("population: unknown"),
            }
            println!("landmarks: {}", city.landmarks.join("; "));
            if let Some(usage) = answer.response.usage() {
                println!(
                    "tokens: {} prompt + {} completion",
                    usage.prompt_tokens, usage.completion_tokens
                );
            }
            Ok(())
        }
        // Models do sometimes break the schema; the error keeps what they wrote.
        Err(Error::ModelOutput { path, message, raw, .. }) => {
            Err(format!("the answer did not fit CityFacts at `{path}`: {message}\nraw answer: {raw}").into())
        }
        Err(e) => Err(e.into()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    support::report(run().await)
}
