//! Structured output: the answer arrives as a Rust value, checked against
//! the same type whose JSON Schema was sent as `response_format`.
//!
//! Runs against the real API when `AIML_API_KEY` (or `AIMLAPI_API_KEY`) is
//! set, and against the embedded contract mock otherwise:
//!
//! ```text
//! cargo run --example structured_output
//! ```

use std::process::ExitCode;

use maverick::{ChatRequest, Client, Error, KEY_VARS};
use maverick_mock::MockServer;
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

/// The real API when a key is set, else a mock on loopback; the mock must
/// outlive the client's calls, so it is returned too.
async fn connect() -> Result<(Client, Option<MockServer>), Box<dyn std::error::Error>> {
    let key_var = KEY_VARS
        .iter()
        .find(|v| std::env::var(v).is_ok_and(|k| !k.trim().is_empty()));
    match key_var {
        Some(var) => {
            let client = Client::from_env()?;
            println!("using {} with the key from {var}", client.base_url());
            Ok((client, None))
        }
        None => {
            let mock = MockServer::start().await?;
            let client = Client::builder()
                .api_key("mock-key")
                .base_url(mock.base_url())
                .build()?;
            println!(
                "using the embedded contract mock at {} (no {} set)",
                mock.base_url(),
                KEY_VARS.join(" or ")
            );
            Ok((client, Some(mock)))
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _mock) = connect().await?;
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
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
