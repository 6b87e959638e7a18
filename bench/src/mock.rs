//! The mock REST API (`flowd-mockapi`) as a separate process on loopback.
//!
//! The process prints its base URL on its first stdout line once it listens;
//! it is killed (by its own handle) and reaped when the [`MockServer`] drops.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running `flowd-mockapi` process.
pub struct MockServer {
    child: Child,
    base_url: String,
    records: usize,
}

impl MockServer {
    /// Starts `flowd-mockapi` serving `records` generated records (~300 bytes
    /// each) at 100 per page, with `latency_ms` added to every answer.
    pub fn start(binary: &Path, records: usize, latency_ms: u64) -> Result<MockServer, String> {
        let mut child = Command::new(binary)
            .args([
                "--records",
                &records.to_string(),
                "--page-size",
                "100",
                "--latency-ms",
                &latency_ms.to_string(),
                "--listen",
                "127.0.0.1:0",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut line = String::new();
        let read = child
            .stdout
            .take()
            .map(|stdout| BufReader::new(stdout).read_line(&mut line));
        let base_url = line.trim().to_owned();
        let server = MockServer {
            child,
            base_url,
            records,
        };
        match read {
            Some(Ok(_)) if server.base_url.starts_with("http://127.0.0.1:") => Ok(server),
            _ => Err(format!(
                "{} did not print a loopback base URL (got {:?})",
                binary.display(),
                server.base_url
            )),
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }

    /// Records the server holds.
    pub fn records(&self) -> usize {
        self.records
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
