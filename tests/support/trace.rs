//! One process-wide TRACE subscriber per test binary, writing into a buffer
//! that tests search for what must never be logged (keys, passwords).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// Everything logged so far.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One process-wide TRACE subscriber (with `log` records bridged, so
/// reqwest's own logging is captured too) writing into a buffer.
pub fn trace_buffer() -> Captured {
    static BUF: OnceLock<Captured> = OnceLock::new();
    BUF.get_or_init(|| {
        use tracing_subscriber::util::SubscriberInitExt;
        let buf = Captured::default();
        let writer = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
            .try_init()
            .expect("no other global subscriber in this test binary");
        buf
    })
    .clone()
}
