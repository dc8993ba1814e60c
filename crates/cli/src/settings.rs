//! Where `maverick chat` sends its calls, and with which key: flags, a
//! profile from the config file, then the environment.
//!
//! ```toml
//! # $XDG_CONFIG_HOME/maverick/config.toml (else ~/.config/maverick/config.toml)
//! profile = "aiml"              # the profile used without --profile
//! temperature = 0.7             # top-level keys are defaults for every profile
//!
//! [profiles.aiml]
//! api_key_env = "AIML_API_KEY"
//!
//! [profiles.vllm]
//! base_url = "https://vllm.lan:8000/v1"
//! model = "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8"
//! api_key_env = "VLLM_KEY"
//!
//! [profiles.local]
//! base_url = "http://127.0.0.1:8080/v1"
//! model = "maverick"
//! ```
//!
//! Keys never appear on the command line or in the file: only the *name*
//! of the variable that holds one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exit::Failure;

/// What a profile (or the file's top level) may set.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// Name of the variable holding the key.
    pub api_key_env: Option<String>,
    /// Never send a key, even when `AIML_API_KEY` is set.
    pub no_api_key: Option<bool>,
    /// Allow a key over `http://` to a host that is not loopback.
    pub allow_http: Option<bool>,
    pub system: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub top_p: Option<f64>,
    /// Print usage after every answer, as `-u` does.
    pub usage: Option<bool>,
    /// `false` makes one non-streaming call, as `--no-stream` does.
    pub stream: Option<bool>,
}

impl Settings {
    /// `self`, with anything unset taken from `base`.
    fn over(self, base: &Settings) -> Settings {
        Settings {
            base_url: self.base_url.or_else(|| base.base_url.clone()),
            model: self.model.or_else(|| base.model.clone()),
            api_key_env: self.api_key_env.or_else(|| base.api_key_env.clone()),
            no_api_key: self.no_api_key.or(base.no_api_key),
            allow_http: self.allow_http.or(base.allow_http),
            system: self.system.or_else(|| base.system.clone()),
            temperature: self.temperature.or(base.temperature),
            max_tokens: self.max_tokens.or(base.max_tokens),
            top_p: self.top_p.or(base.top_p),
            usage: self.usage.or(base.usage),
            stream: self.stream.or(base.stream),
        }
    }
}

/// The parsed config file.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub default_profile: Option<String>,
    pub defaults: Settings,
    pub profiles: BTreeMap<String, Settings>,
}

type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

fn var(env: Env, name: &str) -> Option<String> {
    env(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `--config`, else `MAVERICK_CONFIG`, else the XDG location. Only an
/// explicitly named file must exist.
pub fn config_path(flag: Option<&Path>, env: Env) -> (Option<PathBuf>, bool) {
    if let Some(path) = flag {
        return (Some(path.to_path_buf()), true);
    }
    if let Some(path) = var(env, "MAVERICK_CONFIG") {
        return (Some(PathBuf::from(path)), true);
    }
    let base = var(env, "XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| var(env, "HOME").map(|h| Path::new(&h).join(".config")));
    (base.map(|b| b.join("maverick").join("config.toml")), false)
}

pub fn load(flag: Option<&Path>, env: Env) -> Result<ConfigFile, Failure> {
    let (path, required) = config_path(flag, env);
    let Some(path) = path else {
        return Ok(ConfigFile::default());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(e) => {
            return Err(Failure::Usage(format!(
                "config file {}: cannot read it: {e}",
                path.display()
            )))
        }
    };
    let mut file = parse(&text).map_err(|e| Failure::Usage(format!("config file {}: {e}", path.display())))?;
    file.path = Some(path);
    Ok(file)
}

pub fn parse(text: &str) -> Result<ConfigFile, String> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
    let default_profile = match table.remove("profile") {
        None => None,
        Some(toml::Value::String(name)) => Some(name),
        Some(_) => return Err("`profile` must be a string: the name of a [profiles.NAME] table".into()),
    };
    let mut profiles = BTreeMap::new();
    match table.remove("profiles") {
        None => {}
        Some(toml::Value::Table(all)) => {
            for (name, value) in all {
                let settings: Settings = value
                    .try_into()
                    .map_err(|e: toml::de::Error| format!("[profiles.{name}]: {}", e.message()))?;
                profiles.insert(name, settings);
            }
        }
        Some(_) => return Err("`profiles` must be a table of [profiles.NAME] tables".into()),
    }
    let defaults: Settings = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| format!("top level: {}", e.message()))?;
    Ok(ConfigFile {
        path: None,
        default_profile,
        defaults,
        profiles,
    })
}

impl ConfigFile {
    /// The settings of `--profile` (else `MAVERICK_PROFILE`, else the
    /// file's `profile`), over the file's top level.
    pub fn select(&self, flag: Option<&str>, env: Env) -> Result<(Option<String>, Settings), Failure> {
        let chosen = flag.map(str::to_string).or_else(|| var(env, "MAVERICK_PROFILE"));
        let name = chosen.clone().or_else(|| self.default_profile.clone());
        let Some(name) = name else {
            return Ok((None, self.defaults.clone()));
        };
        match self.profiles.get(&name) {
            Some(profile) => Ok((Some(name), profile.clone().over(&self.defaults))),
            None => {
                let known = if self.profiles.is_empty() {
                    "none".to_string()
                } else {
                    self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                };
                let source = match (&self.path, chosen.is_some()) {
                    (_, true) => "--profile".to_string(),
                    (Some(p), false) => format!("`profile` in {}", p.display()),
                    (None, false) => "the config file".to_string(),
                };
                let file = match &self.path {
                    Some(p) => format!("in {}", p.display()),
                    None => "(no config file found; see `maverick chat --help`)".to_string(),
                };
                Err(Failure::Usage(format!(
                    "{source} names profile {name:?}, which is not defined {file}; defined: {known}"
                )))
            }
        }
    }
}

/// The endpoint a call goes to, and the key it carries.
#[derive(Debug, PartialEq)]
pub struct Target {
    pub base_url: String,
    /// The variable the key came from, and the key.
    pub key: Option<(String, String)>,
    /// Whether the library may use `http://` off loopback.
    pub allow_insecure_http: bool,
}

/// The flags that decide the target.
#[derive(Debug, Default)]
pub struct TargetFlags<'a> {
    pub base_url: Option<&'a str>,
    pub api_key_env: Option<&'a str>,
    pub no_key: bool,
    pub allow_http: bool,
}

/// Decides base URL and key.
///
/// - Base URL: `--base-url`, the profile's, `AIML_API_BASE` /
///   `AIMLAPI_API_BASE`, else the AI/ML API.
/// - Key: none with `--no-key`; the variable `--api-key-env` or the
///   profile's `api_key_env` names (which must then be set); else
///   `AIML_API_KEY` / `AIMLAPI_API_KEY` when set; else none, which only the
///   AI/ML API refuses up front: local hosts need no key.
pub fn target(flags: &TargetFlags, profile: &Settings, env: Env) -> Result<Target, Failure> {
    let (origin, base_url) = match (flags.base_url, &profile.base_url) {
        (Some(url), _) => ("--base-url".to_string(), url.trim().to_string()),
        (None, Some(url)) => ("the profile's base_url".to_string(), url.trim().to_string()),
        (None, None) => match maverick::BASE_URL_VARS.iter().find_map(|n| var(env, n).map(|v| (n, v))) {
            Some((name, url)) => (name.to_string(), url),
            None => (
                "the default base URL".to_string(),
                maverick::DEFAULT_BASE_URL.to_string(),
            ),
        },
    };
    let url = reqwest::Url::parse(&base_url).map_err(|e| {
        Failure::Usage(format!(
            "{origin} {base_url:?} is not a URL ({e}); expected e.g. http://127.0.0.1:8080/v1"
        ))
    })?;
    let aiml = url
        .host_str()
        .is_some_and(|h| h.eq_ignore_ascii_case("aimlapi.com") || h.to_ascii_lowercase().ends_with(".aimlapi.com"));

    let no_key = flags.no_key || (flags.api_key_env.is_none() && profile.no_api_key == Some(true));
    let named = flags
        .api_key_env
        .map(|n| (n.to_string(), "--api-key-env"))
        .or_else(|| profile.api_key_env.clone().map(|n| (n, "the profile's api_key_env")));
    let key = if no_key {
        None
    } else if let Some((name, source)) = named {
        let name = name.trim().to_string();
        if name.is_empty() || name.contains('=') {
            return Err(Failure::Usage(format!(
                "{source} takes the NAME of a variable holding the key, not the key itself (given {name:?})"
            )));
        }
        match var(env, &name) {
            Some(value) => Some((name, value)),
            None => {
                return Err(Failure::Usage(format!(
                    "{source} names {name}, which is not set or empty; export {name}=... first"
                )))
            }
        }
    } else {
        maverick::KEY_VARS
            .iter()
            .find_map(|n| var(env, n).map(|v| (n.to_string(), v)))
    };
    if key.is_none() && aiml && !no_key {
        return Err(Failure::Usage(format!(
            "no API key for {base_url}: set {} (or {}), name another variable with --api-key-env NAME, or pass --mock to use the embedded mock",
            maverick::KEY_VARS[0],
            maverick::KEY_VARS[1]
        )));
    }

    let allow_http = flags.allow_http || profile.allow_http == Some(true);
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if let (Some((name, _)), true) = (&key, url.scheme() == "http" && !loopback && !allow_http) {
        return Err(Failure::Usage(format!(
            "{origin} {base_url} uses http:// on a host that is not loopback, so the key from {name} would travel in clear text; \
             use https://, pass --allow-http (allow_http = true in a profile), or --no-key if the host needs none"
        )));
    }
    Ok(Target {
        base_url,
        // Nothing secret travels without a key, so plain http is fine then.
        allow_insecure_http: allow_http || key.is_none(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    }

    #[test]
    fn the_default_host_needs_a_key_and_says_how() {
        let e = target(&TargetFlags::default(), &Settings::default(), &env(&[])).unwrap_err();
        let Failure::Usage(m) = e else { panic!() };
        for needle in ["AIML_API_KEY", "AIMLAPI_API_KEY", "--api-key-env", "--mock"] {
            assert!(m.contains(needle), "{m}");
        }
        let t = target(
            &TargetFlags::default(),
            &Settings::default(),
            &env(&[("AIMLAPI_API_KEY", "k")]),
        )
        .unwrap();
        assert_eq!(t.key, Some(("AIMLAPI_API_KEY".into(), "k".into())));
        assert_eq!(t.base_url, maverick::DEFAULT_BASE_URL);
    }

    #[test]
    fn other_hosts_get_a_key_only_when_one_is_configured() {
        let flags = TargetFlags {
            base_url: Some("http://192.168.1.9:8000/v1"),
            ..TargetFlags::default()
        };
        let t = target(&flags, &Settings::default(), &env(&[])).unwrap();
        assert_eq!(t.key, None);
        assert!(t.allow_insecure_http, "no key, nothing secret in clear text");

        // A key to a LAN host over http needs an explicit yes.
        let e = target(&flags, &Settings::default(), &env(&[("AIML_API_KEY", "k")])).unwrap_err();
        assert!(
            matches!(&e, Failure::Usage(m) if m.contains("--allow-http") && m.contains("AIML_API_KEY")),
            "{e:?}"
        );
        let no_key = TargetFlags { no_key: true, ..flags };
        assert_eq!(
            target(&no_key, &Settings::default(), &env(&[("AIML_API_KEY", "k")]))
                .unwrap()
                .key,
            None
        );
    }

    #[test]
    fn api_key_env_must_name_a_set_variable() {
        let flags = TargetFlags {
            base_url: Some("http://127.0.0.1:8000"),
            api_key_env: Some("VLLM_KEY"),
            ..TargetFlags::default()
        };
        let t = target(&flags, &Settings::default(), &env(&[("VLLM_KEY", " v ")])).unwrap();
        assert_eq!(t.key, Some(("VLLM_KEY".into(), "v".into())));
        let e = target(&flags, &Settings::default(), &env(&[])).unwrap_err();
        assert!(
            matches!(&e, Failure::Usage(m) if m.contains("VLLM_KEY, which is not set")),
            "{e:?}"
        );
        let pasted = TargetFlags {
            api_key_env: Some("sk-abc=def"),
            ..TargetFlags::default()
        };
        assert!(target(&pasted, &Settings::default(), &env(&[])).is_err());
    }

    #[test]
    fn profiles_layer_over_the_top_level_and_flags_win() {
        let file = parse(
            r#"
profile = "local"
temperature = 0.5
model = "top"
[profiles.local]
base_url = "http://127.0.0.1:8080/v1"
model = "llama"
[profiles.aiml]
api_key_env = "MY_AIML"
"#,
        )
        .unwrap();
        let (name, s) = file.select(None, &env(&[])).unwrap();
        assert_eq!(name.as_deref(), Some("local"));
        assert_eq!(s.model.as_deref(), Some("llama"));
        assert_eq!(s.temperature, Some(0.5));
        let (_, s) = file.select(Some("aiml"), &env(&[])).unwrap();
        assert_eq!(s.model.as_deref(), Some("top"));
        let (_, s) = file.select(None, &env(&[("MAVERICK_PROFILE", "aiml")])).unwrap();
        assert_eq!(s.api_key_env.as_deref(), Some("MY_AIML"));
        let e = file.select(Some("nope"), &env(&[])).unwrap_err();
        assert!(matches!(&e, Failure::Usage(m) if m.contains("aiml, local")), "{e:?}");

        let t = target(
            &TargetFlags {
                base_url: Some("http://localhost:1/v1"),
                ..TargetFlags::default()
            },
            &s,
            &env(&[("MY_AIML", "k")]),
        )
        .unwrap();
        assert_eq!(t.base_url, "http://localhost:1/v1");
        assert_eq!(t.key.unwrap().0, "MY_AIML");
    }

    #[test]
    fn typos_in_the_file_are_named() {
        let e = parse("[profiles.x]\nmodle = \"m\"\n").unwrap_err();
        assert!(e.contains("profiles.x") && e.contains("modle"), "{e}");
        assert!(parse("api_key = \"sk-1\"\n").unwrap_err().contains("api_key"));
    }
}
