//! Where netfence's messages go: stderr always, and a log file when `--log-file PATH` (or
//! `$NETFENCE_LOG_FILE`) names one. Helm 4 swallows a post-renderer's stderr (it shows only
//! "plugin exited with error"), so under Helm 4 the file is the way to see errors, warnings and
//! `--check` findings. The file is appended to, one line per message, prefixed with the time of
//! the run's start in seconds since the epoch and the process id, so runs stay apart.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// The environment variable naming the log file (for Helm, which passes no extra flags to a
/// plugin it runs as a post-renderer unless told).
pub const ENV: &str = "NETFENCE_LOG_FILE";

static FILE: OnceLock<Mutex<File>> = OnceLock::new();

/// Opens `path` for appending; returns an error message when it cannot be opened (the caller
/// reports it on stderr and goes on: a log file never stops a render).
pub fn open(path: &Path) -> Result<(), String> {
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("netfence: --log-file {}: {e}", path.display()))?;
    let _ = FILE.set(Mutex::new(file));
    Ok(())
}

/// A writer for `tracing`: each event is collected and written whole, to stderr and, when open,
/// the log file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tee;

/// One event's text, written out when dropped.
#[derive(Debug, Default)]
pub struct Event(Vec<u8>);

impl Write for Event {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        to_file(&self.0);
        let _ = std::io::stderr().write_all(&self.0);
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Tee {
    type Writer = Event;
    fn make_writer(&'a self) -> Event {
        Event::default()
    }
}

/// Writes one message line to stderr and to the log file.
pub fn line(message: &str) {
    let text = format!("{message}\n");
    to_file(text.as_bytes());
    let _ = std::io::stderr().write_all(text.as_bytes());
}

fn to_file(buf: &[u8]) {
    if let Some(file) = FILE.get() {
        if let Ok(mut f) = file.lock() {
            let prefix = format!("[{} pid {}] ", run_start(), std::process::id());
            for l in buf.split_inclusive(|b| *b == b'\n') {
                let _ = f.write_all(prefix.as_bytes()).and_then(|()| f.write_all(l));
            }
        }
    }
}

/// The run's start, seconds since the epoch (fixed for the run: all its lines share it).
fn run_start() -> u64 {
    static START: OnceLock<u64> = OnceLock::new();
    *START.get_or_init(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    })
}
