//! What the binary's tests share: a `maverick` command that sees none of
//! the machine's own settings, scratch folders, and background processes
//! (`maverick mock`, `maverick proxy`) that stop with the test.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// Variables the binary reads: unset for every test, so that a key, host,
/// profile or config on the machine running the tests changes nothing.
pub const ENV_VARS: [&str; 9] = [
    "AIML_API_KEY",
    "AIMLAPI_API_KEY",
    "AIML_API_BASE",
    "AIMLAPI_API_BASE",
    "MAVERICK_CONFIG",
    "MAVERICK_PROFILE",
    "RUST_LOG",
    "NO_COLOR",
    "XDG_CONFIG_HOME",
];

/// The binary under test, with a clean environment, no config file and
/// stdin closed.
pub fn maverick() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_maverick"));
    for var in ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env("XDG_CONFIG_HOME", scratch("no-config"));
    cmd.stdin(Stdio::null());
    cmd
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An empty folder of this test process's own, named `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maverick-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A background `maverick` process, killed when the test ends (also early).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        // Only the child this test started.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `maverick ARGS` (a server: `mock`, `proxy`) and returns it with
/// its first stdout line, which names where it listens.
pub fn start_line(args: &[&str]) -> (Running, String) {
    let mut child = maverick()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    (Running(child), first)
}

/// [`start_line`], returning the URL from `listening on URL`.
pub fn start(args: &[&str]) -> (Running, String) {
    let (running, first) = start_line(args);
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line: {first:?}"))
        .to_string();
    (running, url)
}
