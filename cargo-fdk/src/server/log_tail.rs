//! The function's log, printed as it grows.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

/// Prints the function's log as it grows, each line prefixed with its name.
pub(super) struct LogTail {
    path: PathBuf,
    offset: u64,
    prefix: String,
}

impl LogTail {
    pub(super) fn new(path: PathBuf, name: &str) -> Self {
        Self {
            path,
            offset: 0,
            prefix: format!("  [{name}] "),
        }
    }

    pub(super) fn print(&mut self) {
        let Ok(mut file) = std::fs::File::open(&self.path) else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut new = Vec::new();
        if file.read_to_end(&mut new).is_err() {
            return;
        }
        self.offset += new.len() as u64;
        let mut out = std::io::stdout().lock();
        for line in String::from_utf8_lossy(&new).lines() {
            if !line.is_empty() {
                let _ = writeln!(out, "{}{line}", self.prefix);
            }
        }
    }
}
