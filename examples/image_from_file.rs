//! Vision from a file: the image is read, its type sniffed from the bytes
//! (JPEG, PNG, GIF or WEBP), and sent inline as a base64 data URL.
//!
//! Runs against the real API when `AIML_API_KEY` (or `AIMLAPI_API_KEY`) is
//! set, and against the embedded contract mock otherwise. With no path
//! argument it draws a small PNG into a temporary file first, so it needs
//! no image to try:
//!
//! ```text
//! cargo run --example image_from_file [-- path/to/picture.jpg]
//! ```

#[path = "support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::ExitCode;

use maverick::{ChatRequest, ContentPart, ImageDetail, Message};

/// A 16×16 PNG fading from red to blue, encoded by hand (one stored deflate
/// block) so the example needs no image crate.
fn gradient_png() -> Vec<u8> {
    const SIZE: u32 = 16;
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    // Every scanline is the same: filter byte 0 (none), then the pixels.
    let mut row = vec![0u8];
    for x in 0..SIZE {
        let t = (x * 255 / (SIZE - 1)) as u8;
        row.extend_from_slice(&[255 - t, 0, t]);
    }
    let raw = row.repeat(SIZE as usize);
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + u32::from(x)) % 65521;
        b = (b + a) % 65521;
    }
    let len = raw.len() as u16;
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&SIZE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Removes the generated image however the example ends.
struct Cleanup(Option<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (client, _mock) = support::connect().await?;
    let mut cleanup = Cleanup(None);
    let path = match std::env::args_os().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            let path = std::env::temp_dir().join(format!("maverick-example-{}.png", std::process::id()));
            std::fs::write(&path, gradient_png())?;
            cleanup.0 = Some(path.clone());
            println!(
                "no image given; wrote a 16x16 red-to-blue gradient to {}",
                path.display()
            );
            path
        }
    };

    // Unsupported types, oversized files and unreadable paths fail here, before any request.
    let image = ContentPart::image_file(&path)?.detail(ImageDetail::Low);
    let request = ChatRequest::new()
        .message(Message::user_parts([
            ContentPart::text("Describe this image in one sentence."),
            image,
        ]))
        .max_tokens(120);
    let reply = client.chat(request).await?;
    println!("image: {}", path.display());
    println!("answer: {}", reply.text().unwrap_or("(no text in the reply)"));
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    support::report(run().await)
}
