//! Building the client every calling command uses (`chat`, `batch`): the
//! embedded mock, or the host and key the flags, the profile and the
//! environment decide (see `settings`).

use maverick::Client;
use maverick_mock::MockServer;

use crate::exit::Failure;
use crate::settings::{self, Settings, TargetFlags};

/// The flags that say where calls go.
#[derive(Debug, Default)]
pub struct Connection<'a> {
    pub target: TargetFlags<'a>,
    /// Answer from an embedded contract mock instead.
    pub mock: bool,
    /// The model the flags or the profile chose, if any.
    pub model: Option<String>,
    /// Retries per request, when the command takes them.
    pub max_retries: Option<u32>,
}

/// The client, and the embedded mock it talks to with `--mock` (keep it
/// alive as long as the client: dropping it stops the mock).
pub async fn client(
    connection: Connection<'_>,
    profile: &Settings,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Client, Option<MockServer>), Failure> {
    // The library reads the key and base URL from the environment on its
    // own; the CLI decides both, so it shows it none of those variables.
    let hide: Vec<&str> = maverick::KEY_VARS
        .iter()
        .chain(maverick::BASE_URL_VARS.iter())
        .copied()
        .collect();
    let mut builder = Client::builder().environment(move |name| {
        if hide.contains(&name) {
            None
        } else {
            std::env::var(name).ok()
        }
    });
    let mut mock = None;
    if connection.mock {
        let server = MockServer::start().await?;
        builder = builder.api_key("maverick-cli-mock").base_url(server.base_url());
        mock = Some(server);
    } else {
        let target = settings::target(&connection.target, profile, env)?;
        builder = builder
            .base_url(target.base_url)
            .allow_insecure_http(target.allow_insecure_http);
        builder = match target.key {
            Some((_, key)) => builder.api_key(key),
            None => builder.without_api_key(),
        };
    }
    if let Some(model) = connection.model {
        builder = builder.model(model);
    }
    if let Some(retries) = connection.max_retries {
        builder = builder.max_retries(retries);
    }
    Ok((builder.build()?, mock))
}
