//! Building the client every calling command uses (`chat`, `batch`): the
//! embedded mock, or the host and key the flags, the profile and the
//! environment decide (see `settings`).

use std::path::PathBuf;

use maverick::Client;
use maverick_mock::MockServer;

use crate::exit::Failure;
use crate::settings::{self, Settings, TargetFlags};

/// Where calls go and with which key: the flags every calling command
/// (`chat`, `batch`) takes, declared once so they cannot drift apart.
#[derive(Debug, clap::Args)]
pub struct HostArgs {
    /// Profile from the config file (see `maverick chat --help`).
    #[arg(short, long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Config file (default: $XDG_CONFIG_HOME/maverick/config.toml).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// API base URL, e.g. http://localhost:8000/v1 for vLLM.
    #[arg(long, value_name = "URL", conflicts_with = "mock")]
    pub base_url: Option<String>,
    /// Read the key from this variable instead of AIML_API_KEY.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["mock", "no_key"])]
    pub api_key_env: Option<String>,
    /// Send no key, even when AIML_API_KEY is set.
    #[arg(long, conflicts_with = "mock")]
    pub no_key: bool,
    /// Allow sending the key over http:// to a host that is not loopback.
    #[arg(long, conflicts_with = "mock")]
    pub allow_http: bool,
    /// Answer from the embedded contract mock; no key needed.
    #[arg(long)]
    pub mock: bool,
}

impl HostArgs {
    /// The profile these flags select (the file's defaults when none is named).
    pub fn settings(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings, Failure> {
        let file = settings::load(self.config.as_deref(), env)?;
        let (_, profile) = file.select(self.profile.as_deref(), env)?;
        Ok(profile)
    }

    /// Where calls go, for [`client`].
    pub fn connection(&self, model: Option<String>, max_retries: Option<u32>) -> Connection<'_> {
        Connection {
            target: TargetFlags {
                base_url: self.base_url.as_deref(),
                api_key_env: self.api_key_env.as_deref(),
                no_key: self.no_key,
                allow_http: self.allow_http,
            },
            mock: self.mock,
            model,
            max_retries,
        }
    }
}

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
