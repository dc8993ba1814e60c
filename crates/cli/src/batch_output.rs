//! The output file of `maverick batch`: what a previous run already
//! answered, a crash's torn last line repaired, and new answers appended a
//! whole line at a time.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::batch_file::{custom_id_of, id_hash, next_line, Line};
use crate::exit::Failure;

/// What the output file already holds.
#[derive(Debug, Default)]
pub struct Answered {
    /// Hashes of the custom ids answered (see [`id_hash`]).
    pub ids: HashSet<u128>,
    /// Lines that repeat an id already seen (a file put together by hand).
    pub repeated: u64,
    /// What was done to a torn last line, to tell the user.
    pub repaired: Option<String>,
}

/// Reads the answers in `path` (none if it does not exist). A last line cut
/// short by a crash (`kill -9` during a write) is removed, or completed
/// with its newline if only that is missing; any other line that is not an
/// output line stops the run, since the file is then not one this command
/// wrote.
pub fn scan(path: &Path) -> Result<Answered, Failure> {
    let shown = path.display();
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Answered::default()),
        Err(e) => return Err(Failure::Usage(format!("-o {shown}: cannot open it: {e}"))),
    };
    let read_error = |e: std::io::Error| Failure::Usage(format!("-o {shown}: cannot read it: {e}"));
    let mut reader = BufReader::new(&file);
    let mut answered = Answered::default();
    let mut buf = Vec::new();
    let mut offset: u64 = 0;
    let mut number: u64 = 0;
    // An unterminated last line that is not an output line: where it
    // starts, and its number.
    let mut bad: Option<(u64, u64)> = None;
    let mut unterminated: Option<u64> = None;
    while let Some(line) = next_line(&mut reader, &mut buf).map_err(read_error)? {
        number += 1;
        let start = offset;
        let (id, length, terminated) = match line {
            Line::Text { bytes, terminated } => (custom_id_of(&bytes), bytes.len() as u64, terminated),
            Line::TooLong { bytes } => (None, bytes, true),
        };
        offset = start + length + u64::from(terminated);
        match id {
            Some(id) => {
                if !answered.ids.insert(id_hash(&id)) {
                    answered.repeated += 1;
                }
                if !terminated {
                    unterminated = Some(offset);
                }
            }
            // A write cut short never has its newline: a whole line that
            // is not ours means the file is not ours, and is left alone.
            None if terminated => return Err(not_ours(path, number)),
            None => bad = Some((start, number)),
        }
    }
    drop(reader);
    let write_error = |e: std::io::Error| Failure::Usage(format!("-o {shown}: cannot repair it: {e}"));
    if let Some((start, line)) = bad {
        // Only the last line may be torn: cut it off; its request runs again.
        file.set_len(start).map_err(write_error)?;
        answered.repaired = Some(format!(
            "-o {shown}: line {line} was cut short (the run before was killed mid-write); removed it, so its request runs again"
        ));
    } else if let Some(end) = unterminated {
        let mut file = &file;
        file.seek(SeekFrom::Start(end))
            .and_then(|_| file.write_all(b"\n"))
            .map_err(write_error)?;
        answered.repaired = Some(format!("-o {shown}: the last line lacked its newline; added it"));
    }
    Ok(answered)
}

fn not_ours(path: &Path, line: u64) -> Failure {
    Failure::Usage(format!(
        "-o {}: line {line} is not a batch output line (no custom_id), so this is not a file `maverick batch` wrote; move it away or name another -o",
        path.display()
    ))
}

/// The output file, opened for appending: each answer is one `write` of a
/// whole line, so an interruption between answers never leaves half a line.
#[derive(Debug)]
pub struct Appender {
    file: File,
    path: PathBuf,
}

impl Appender {
    pub fn open(path: &Path) -> Result<Appender, Failure> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Failure::Usage(format!("-o {}: cannot open it for writing: {e}", path.display())))?;
        Ok(Appender {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one line (newline included) and flushes it to the system.
    pub fn append(&mut self, line: &[u8]) -> Result<(), Failure> {
        self.file
            .write_all(line)
            .and_then(|()| self.file.flush())
            .map_err(|e| Failure::Network(format!("-o {}: cannot write an answer: {e}", self.path.display())))
    }

    /// Asks the system to put the file on disk (at the end of a run).
    pub fn sync(&self) {
        let _ = self.file.sync_data();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, content: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!("maverick-batch-output-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn a_torn_last_line_is_cut_and_a_missing_newline_added() {
        let path = scratch(
            "torn",
            b"{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n{\"custom_id\":\"c\",\"resp",
        );
        let answered = scan(&path).unwrap();
        assert_eq!(answered.ids.len(), 2);
        assert!(answered.repaired.unwrap().contains("line 3"));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n"
        );

        let path = scratch("newline", b"{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}");
        let answered = scan(&path).unwrap();
        assert!(answered.ids.contains(&id_hash("b")));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"{\"custom_id\":\"a\"}\n{\"custom_id\":\"b\"}\n"
        );

        let path = scratch("foreign", b"hello\n{\"custom_id\":\"a\"}\n");
        let Err(Failure::Usage(m)) = scan(&path) else { panic!() };
        assert!(m.contains("line 1") && m.contains("not a batch output line"), "{m}");

        let mut appender = Appender::open(&path.with_extension("new")).unwrap();
        appender.append(b"{\"custom_id\":\"z\"}\n").unwrap();
        assert!(scan(&path.with_extension("new")).unwrap().ids.contains(&id_hash("z")));
    }
}
