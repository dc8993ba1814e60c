//! `maverick spec diff` and `maverick spec update`: keeping a project in step
//! with the provider's published document, and seeing before shipping what
//! an update breaks.
//!
//! Exit codes, for scripts and scheduled CI jobs:
//! * 0: done; for `update --check`, in sync (documentation may differ);
//! * 1: the source could not be fetched or is not JSON; for `update`
//!   without `--check`, also a document the build would refuse (refused by
//!   the normaliser, or lacking what the wrapper needs), which is never written;
//! * 2: usage or local configuration (unreadable file, bad `--from`, write failed);
//! * 3: breaking changes (`diff --fail-on-breaking`, `surface --fail-on-major`
//!   for a major surface change); for `update --check`, breaking drift,
//!   including a published document the build guard would refuse (the reason
//!   is printed: the provider broke the contract, or the wrapper must change);
//! * 4: non-breaking drift only (`update --check`).
//!
//! `check-traffic` exits 0 when the normaliser absorbs every departure in
//! the recorded traffic and 3 when some of it would break the client.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use maverick_spec::diff::{diff, semver};
use maverick_spec::update::{plan, write_atomically, Drift, UpdateError};

/// Where the provider publishes the document this library is generated from.
pub const DEFAULT_SOURCE: &str =
    "https://raw.githubusercontent.com/aimlapi/api-docs/refs/heads/main/docs/api-references/text-models-llm/Meta/Llama-4-maverick.json";
/// The project's own copy, relative to the repository root.
pub const DEFAULT_SPEC: &str = "spec/llama-4-maverick.json";

/// The published file is ~200 KB; older ones reached 2 MB. Anything near
/// this limit is not the document (an error page, a redirect loop to a blob).
const MAX_DOWNLOAD: usize = 16 * 1024 * 1024;
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(clap::Subcommand, Debug)]
pub enum SpecCommand {
    /// Show what changes between two versions of the OpenAPI document, classified
    /// breaking / non-breaking / docs-only for code using this library.
    Diff {
        /// The older document (a file).
        old: PathBuf,
        /// The newer document (a file).
        new: PathBuf,
        /// `json` is stable and documented in maverick_spec::diff, for scripts;
        /// `markdown` is a pull request description.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 3 when any change is breaking.
        #[arg(long)]
        fail_on_breaking: bool,
    },
    /// Classify the difference between two snapshots of the generated Rust
    /// surface (tests/data/generated_surface.txt): major (removed or retyped),
    /// minor (only additions) or patch (none).
    Surface {
        /// The older snapshot (a file).
        old: PathBuf,
        /// The newer snapshot (a file).
        new: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Exit 3 when the change is major.
        #[arg(long)]
        fail_on_major: bool,
    },
    /// Fetch the published document, check that the build would accept it, show
    /// the diff against the project's copy, and replace the copy atomically.
    Update {
        /// Where to fetch it: an http(s) URL or a file path.
        #[arg(long, value_name = "URL|PATH", default_value = DEFAULT_SOURCE)]
        from: String,
        /// Only report: exit 0 in sync, 3 breaking drift, 4 non-breaking drift.
        #[arg(long)]
        check: bool,
        /// The project's copy to compare with and replace.
        #[arg(long, value_name = "PATH", default_value = DEFAULT_SPEC)]
        spec: PathBuf,
    },
    /// Validate recorded cassettes (`maverick proxy --record DIR`) and show, for each
    /// departure from the published document, whether the normaliser absorbs it.
    /// Exit 3 when some traffic would break the client.
    CheckTraffic {
        /// The cassette directory.
        dir: PathBuf,
        /// Print JSON (format maverick-check-traffic/1) instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

pub async fn run(cmd: SpecCommand) -> ExitCode {
    ExitCode::from(execute(cmd, &Fetch::default()).await)
}

/// Download limits, injectable so tests can exercise them in milliseconds.
struct Fetch {
    timeout: Duration,
    max_bytes: usize,
}

impl Default for Fetch {
    fn default() -> Self {
        Fetch {
            timeout: DOWNLOAD_TIMEOUT,
            max_bytes: MAX_DOWNLOAD,
        }
    }
}

/// A failure with the exit code it maps to; the message says what to do.
struct Failure {
    code: u8,
    message: String,
}

fn usage(message: String) -> Failure {
    Failure { code: 2, message }
}

fn source(message: String) -> Failure {
    Failure { code: 1, message }
}

async fn execute(cmd: SpecCommand, fetch: &Fetch) -> u8 {
    let result = match cmd {
        SpecCommand::Diff {
            old,
            new,
            format,
            fail_on_breaking,
        } => run_diff(&old, &new, format, fail_on_breaking),
        SpecCommand::Surface {
            old,
            new,
            format,
            fail_on_major,
        } => run_surface(&old, &new, format, fail_on_major),
        SpecCommand::Update { from, check, spec } => run_update(&from, check, &spec, fetch).await,
        SpecCommand::CheckTraffic { dir, json } => crate::traffic::run(&dir, json).map_err(usage),
    };
    match result {
        Ok(code) => code,
        Err(f) => {
            eprintln!("maverick: {}", f.message);
            f.code
        }
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| {
        usage(format!(
            "{} is not JSON: {e} (pass the OpenAPI .json file)",
            path.display()
        ))
    })
}

fn run_diff(old: &Path, new: &Path, format: Format, fail_on_breaking: bool) -> Result<u8, Failure> {
    let (a, b) = (read_json(old)?, read_json(new)?);
    let d = diff(&old.display().to_string(), &a, &new.display().to_string(), &b);
    match format {
        Format::Text => print!("{}", d.render_text()),
        Format::Json => print!("{}", d.to_json()),
        Format::Markdown => print!("{}", d.render_markdown()),
    }
    Ok(if fail_on_breaking && d.has_breaking() { 3 } else { 0 })
}

fn run_surface(old: &Path, new: &Path, format: Format, fail_on_major: bool) -> Result<u8, Failure> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| usage(format!("cannot read {}: {e}", p.display())));
    let d = semver::surface(&read(old)?, &read(new)?);
    match format {
        Format::Text => print!("{}", d.render_text()),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&d).expect("a SurfaceDiff holds only strings")
        ),
        Format::Markdown => print!("{}", d.render_markdown()),
    }
    Ok(if fail_on_major && d.impact == semver::Semver::Major {
        3
    } else {
        0
    })
}

async fn run_update(from: &str, check: bool, spec: &Path, fetch: &Fetch) -> Result<u8, Failure> {
    let current = std::fs::read_to_string(spec).map_err(|e| {
        usage(format!(
            "cannot read the current spec {}: {e} (run from the repository root, or pass --spec PATH)",
            spec.display()
        ))
    })?;
    let candidate = load(from, fetch).await?;
    let label = spec.display().to_string();
    let p = match plan(&label, &current, from, &candidate) {
        Ok(p) => p,
        // The provider published something the build would refuse: for a
        // check that is the most breaking drift there is, not a failure to
        // check. An update still refuses to write it (exit 1).
        Err(e @ (UpdateError::Rejected { .. } | UpdateError::MissingNeeds { .. })) if check => {
            if let (Ok(old), Ok(new)) = (
                serde_json::from_str::<serde_json::Value>(&current),
                serde_json::from_str::<serde_json::Value>(&candidate),
            ) {
                print!("{}", diff(&label, &old, from, &new).render_text());
            }
            println!("\n{label}: breaking drift: the build would refuse the published document");
            eprintln!("maverick: {e}");
            return Ok(Drift::Breaking.exit_code());
        }
        Err(e) => return Err(source(e.to_string())),
    };
    print!("{}", p.diff.render_text());
    if check {
        println!("\n{}: {}", spec.display(), p.drift);
        return Ok(p.drift.exit_code());
    }
    if p.identical_text {
        println!("\n{} is already the published version; nothing written", spec.display());
        return Ok(0);
    }
    write_atomically(spec, candidate.as_bytes()).map_err(|e| usage(format!("cannot write {}: {e}", spec.display())))?;
    let next = if p.drift == Drift::Breaking {
        "read the breaking changes above, then `cargo build` regenerates the client"
    } else {
        "`cargo build` regenerates the client"
    };
    println!("\nwrote {}; {next}", spec.display());
    Ok(0)
}

async fn load(from: &str, fetch: &Fetch) -> Result<String, Failure> {
    if from.starts_with("http://") || from.starts_with("https://") {
        return download(from, fetch).await;
    }
    if from.contains("://") {
        return Err(usage(format!(
            "--from {from}: only http(s) URLs and file paths are supported"
        )));
    }
    std::fs::read_to_string(from).map_err(|e| usage(format!("cannot read --from {from}: {e}")))
}

async fn download(url: &str, fetch: &Fetch) -> Result<String, Failure> {
    // With maverick's default rustls-ring feature reqwest has no crypto
    // provider of its own; this installs the one the features chose.
    maverick::install_tls_provider();
    let client = reqwest::Client::builder()
        .timeout(fetch.timeout)
        .user_agent(concat!("maverick-cli/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| source(format!("cannot build an HTTP client: {e}")))?;
    let timed_out = |e: &reqwest::Error| e.is_timeout();
    let mut response = client.get(url).send().await.map_err(|e| {
        if timed_out(&e) {
            source(format!(
                "no answer from {url} within {:?} (check the network, or pass --from PATH)",
                fetch.timeout
            ))
        } else {
            source(format!(
                "cannot download {url}: {} (check the network, or pass --from PATH)",
                maverick::error_chain(&e)
            ))
        }
    })?;
    let status = response.status();
    if !status.is_success() {
        return Err(source(format!(
            "{url} answered HTTP {status}; is the URL right? (pass --from URL|PATH)"
        )));
    }
    let too_big = || {
        source(format!(
            "{url} is larger than {} bytes; that is not the OpenAPI document",
            fetch.max_bytes
        ))
    };
    if response.content_length().is_some_and(|n| n > fetch.max_bytes as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        if timed_out(&e) {
            source(format!("downloading {url} took longer than {:?}", fetch.timeout))
        } else {
            source(format!("download of {url} broke off: {}", maverick::error_chain(&e)))
        }
    })? {
        if body.len() + chunk.len() > fetch.max_bytes {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|e| source(format!("{url} is not UTF-8 text: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn repo_root() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn upstream(what: &str) -> Option<PathBuf> {
        let dir = repo_root().join("../shared/upstream/llama-4-maverick");
        if dir.is_dir() {
            Some(dir)
        } else {
            println!(
                "SKIPPED {what}: {} is absent (a clone without ../shared); CI has it",
                dir.display()
            );
            None
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("maverick-cli-spec-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// One-connection-per-request HTTP/1.1 server on loopback serving `body`
    /// (or never answering when `body` is None).
    async fn serve(body: Option<Vec<u8>>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    match body {
                        Some(b) => {
                            let head = format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                                b.len()
                            );
                            let _ = sock.write_all(head.as_bytes()).await;
                            let _ = sock.write_all(&b).await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(30)).await,
                    }
                });
            }
        });
        format!("http://{addr}/Llama-4-maverick.json")
    }

    fn update(from: String, check: bool, spec: PathBuf) -> SpecCommand {
        SpecCommand::Update { from, check, spec }
    }

    #[tokio::test]
    async fn update_check_over_loopback_reports_drift_codes() {
        let Some(dir) = upstream("spec update over loopback") else {
            return;
        };
        let work = scratch("check");
        let spec = work.join("llama-4-maverick.json");
        let ours = std::fs::read(repo_root().join(DEFAULT_SPEC)).unwrap();
        std::fs::write(&spec, &ours).unwrap();
        let fetch = Fetch::default();

        // The newest published version states our contract: in sync.
        let newest = std::fs::read(dir.join("2026-01-16_ef7ca0ed.json")).unwrap();
        assert_eq!(
            execute(update(serve(Some(newest.clone())).await, true, spec.clone()), &fetch).await,
            0
        );
        assert_eq!(std::fs::read(&spec).unwrap(), ours, "--check never writes");

        // Drift: the same document with a request field removed (breaking)
        // or added (non-breaking), on both published paths.
        let edited = |f: &dyn Fn(&mut serde_json::Map<String, serde_json::Value>)| -> Vec<u8> {
            let mut doc: serde_json::Value = serde_json::from_slice(&newest).unwrap();
            for path in ["/v1/chat/completions", "/chat/completions"] {
                let props = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
                    ["properties"]
                    .as_object_mut()
                    .unwrap();
                f(props);
            }
            serde_json::to_vec_pretty(&doc).unwrap()
        };
        let fewer = edited(&|p| {
            p.remove("logit_bias").unwrap();
        });
        let more = edited(&|p| {
            p.insert("reasoning_effort".into(), serde_json::json!({"type": "string"}));
        });
        assert_eq!(
            execute(update(serve(Some(fewer)).await, true, spec.clone()), &fetch).await,
            3
        );
        assert_eq!(
            execute(update(serve(Some(more.clone())).await, true, spec.clone()), &fetch).await,
            4
        );
        assert_eq!(std::fs::read(&spec).unwrap(), ours, "--check never writes");

        // Without --check the candidate is written, byte for byte.
        assert_eq!(
            execute(update(serve(Some(more.clone())).await, false, spec.clone()), &fetch).await,
            0
        );
        assert_eq!(std::fs::read(&spec).unwrap(), more);

        // A version the build would refuse is breaking drift for a check,
        // and is never written by an update.
        let refused = std::fs::read(dir.join("2025-09-17_c318f19d.json")).unwrap();
        assert_eq!(
            execute(update(serve(Some(refused.clone())).await, true, spec.clone()), &fetch).await,
            3
        );
        assert_eq!(
            execute(update(serve(Some(refused)).await, false, spec.clone()), &fetch).await,
            1
        );
        assert_eq!(std::fs::read(&spec).unwrap(), more);
        std::fs::remove_dir_all(&work).unwrap();
    }

    #[tokio::test]
    async fn update_refuses_bad_sources_with_the_right_code() {
        let work = scratch("bad");
        let spec = work.join("spec.json");
        std::fs::copy(repo_root().join(DEFAULT_SPEC), &spec).unwrap();
        let fetch = Fetch {
            timeout: Duration::from_millis(300),
            max_bytes: 1024,
        };
        // HTML error page instead of JSON.
        let html = serve(Some(b"<html>not found</html>".to_vec())).await;
        assert_eq!(execute(update(html, false, spec.clone()), &fetch).await, 1);
        // Larger than the limit.
        let big = serve(Some(vec![b' '; 4096])).await;
        assert_eq!(execute(update(big, false, spec.clone()), &fetch).await, 1);
        // Never answers: the timeout fires.
        let silent = serve(None).await;
        let started = std::time::Instant::now();
        assert_eq!(execute(update(silent, false, spec.clone()), &fetch).await, 1);
        assert!(started.elapsed() < Duration::from_secs(10));
        // Usage errors.
        assert_eq!(
            execute(
                update("ftp://example.invalid/x.json".into(), true, spec.clone()),
                &fetch
            )
            .await,
            2
        );
        assert_eq!(
            execute(
                update(spec.display().to_string(), true, work.join("missing.json")),
                &fetch
            )
            .await,
            2
        );
        // A file source equal to the current spec: in sync.
        assert_eq!(
            execute(update(spec.display().to_string(), true, spec.clone()), &fetch).await,
            0
        );
        std::fs::remove_dir_all(&work).unwrap();
    }

    #[tokio::test]
    async fn diff_exit_codes() {
        let work = scratch("diff");
        let ours = repo_root().join(DEFAULT_SPEC);
        let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&ours).unwrap()).unwrap();
        // Both published paths must stay identical, or the normaliser refuses the file.
        for path in ["/v1/chat/completions", "/chat/completions"] {
            doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["properties"]
                .as_object_mut()
                .unwrap()
                .remove("seed")
                .unwrap();
        }
        let fewer = work.join("fewer.json");
        std::fs::write(&fewer, doc.to_string()).unwrap();
        let not_json = work.join("page.html");
        std::fs::write(&not_json, "<html>").unwrap();
        let fetch = Fetch::default();
        let cmd = |old: &Path, new: &Path, fail: bool| SpecCommand::Diff {
            old: old.into(),
            new: new.into(),
            format: Format::Json,
            fail_on_breaking: fail,
        };
        assert_eq!(execute(cmd(&ours, &fewer, false), &fetch).await, 0);
        assert_eq!(execute(cmd(&ours, &fewer, true), &fetch).await, 3);
        assert_eq!(
            execute(cmd(&fewer, &ours, true), &fetch).await,
            0,
            "adding an optional field is not breaking"
        );
        assert_eq!(execute(cmd(&ours, &not_json, false), &fetch).await, 2);
        assert_eq!(execute(cmd(&ours, &work.join("absent.json"), false), &fetch).await, 2);
        std::fs::remove_dir_all(&work).unwrap();
    }
}
