//! What every example shares: the real API when a key is set, else the
//! embedded contract mock, announced on the first line of output.

use std::process::ExitCode;

use maverick::{Client, KEY_VARS};
use maverick_mock::MockServer;

/// The real API when a key is set, else a mock on loopback; the mock must
/// outlive the client's calls, so it is returned too.
pub async fn connect() -> Result<(Client, Option<MockServer>), Box<dyn std::error::Error>> {
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

/// Exit status and message for an example's outcome.
pub fn report(outcome: Result<(), Box<dyn std::error::Error>>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
