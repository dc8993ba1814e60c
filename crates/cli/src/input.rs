//! The prompt: the words on the command line, then whatever is piped in,
//! then the `--file`s, as `cat notes.txt | maverick chat "summarise this"`
//! expects.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use crate::exit::Failure;

/// Largest prompt, piped text or attached file: past any request the API
/// takes, yet `/dev/zero` or an endless pipe cannot exhaust memory.
pub const MAX_INPUT_BYTES: u64 = 32 * 1024 * 1024;

/// Reads UTF-8 text, refusing more than `limit` bytes and invalid UTF-8
/// with a message instead of growing without bound.
pub fn read_bounded(reader: impl Read, limit: u64) -> std::io::Result<String> {
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {limit} bytes"),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not UTF-8 (invalid byte at offset {}); attach images with --image",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Reads a UTF-8 text file for `flag`.
pub fn read_text(path: &Path, flag: &str) -> Result<String, Failure> {
    std::fs::File::open(path)
        .and_then(|file| read_bounded(file, MAX_INPUT_BYTES))
        .map_err(|e| Failure::Usage(format!("{flag} {}: cannot read it: {e}", path.display())))
}

/// How an attached file appears in the prompt.
pub fn attachment(path: &Path, text: &str) -> String {
    let text = text.trim_end_matches('\n');
    format!("--- {} ---\n{text}\n--- end of {} ---", path.display(), path.display())
}

/// Joins the parts of a prompt, blank line between them.
pub fn assemble(words: &[String], piped: Option<&str>, files: &[(PathBuf, String)]) -> String {
    let mut parts = Vec::new();
    let said = words.join(" ");
    if !said.trim().is_empty() {
        parts.push(said.trim().to_string());
    }
    if let Some(piped) = piped.map(str::trim).filter(|p| !p.is_empty()) {
        parts.push(piped.to_string());
    }
    for (path, text) in files {
        parts.push(attachment(path, text));
    }
    parts.join("\n\n")
}

/// Everything on stdin when it is a pipe or a file; nothing when it is a
/// terminal (a person typing is `-i`).
pub fn piped_stdin() -> Result<Option<String>, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    read_bounded(stdin.lock(), MAX_INPUT_BYTES)
        .map(Some)
        .map_err(|e| Failure::Usage(format!("cannot read the prompt from stdin: {e}")))
}

/// The one-shot prompt, or a usage error that says how to give one.
pub fn prompt(words: &[String], files: &[PathBuf], read_stdin: bool) -> Result<String, Failure> {
    let mut attached = Vec::new();
    for path in files {
        attached.push((path.clone(), read_text(path, "--file")?));
    }
    let terminal = std::io::stdin().is_terminal() || !read_stdin;
    if terminal && words.is_empty() && attached.is_empty() {
        return Err(Failure::Usage(
            "no prompt: give it as arguments (maverick chat \"Hello\"), pipe it in (echo Hello | maverick chat), or start a conversation with -i".into(),
        ));
    }
    let piped = if read_stdin { piped_stdin()? } else { None };
    let text = assemble(words, piped.as_deref(), &attached);
    if text.is_empty() {
        return Err(Failure::Usage(
            "the prompt is empty; give it as arguments, on stdin, or with --file".into(),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_come_first_then_the_pipe_then_files() {
        let files = vec![(PathBuf::from("a.txt"), "alpha\n".to_string())];
        let text = assemble(&["summarise".into(), "this".into()], Some("piped\n"), &files);
        assert_eq!(
            text,
            "summarise this\n\npiped\n\n--- a.txt ---\nalpha\n--- end of a.txt ---"
        );
        assert_eq!(assemble(&[], Some(" only pipe \n"), &[]), "only pipe");
        assert_eq!(assemble(&["x".into()], Some("  \n"), &[]), "x");
    }
}
