//! Runs the real `flowd` binary: a server on port 0 in a temporary data
//! directory, found by the address it logs, and stopped by signal.

#![allow(dead_code)]

pub mod runs;
pub mod workflow;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub const BASE: &str = "/data/foundation/flowservice";

pub fn flowd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flowd"))
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

/// Where a `flowd serve` answers.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub base_url: String,
}

impl Endpoint {
    pub fn url(&self, path: &str) -> String {
        format!("{}{BASE}{path}", self.base_url)
    }
}

/// A running `flowd serve` (its [`Endpoint`] through `Deref`).
pub struct Server {
    pub child: Child,
    endpoint: Endpoint,
    /// The credential printed on first start, if this start printed one.
    pub printed_credential: Option<Value>,
    /// Every line the server logged so far.
    log_lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// The headers of a credential, for reqwest.
#[derive(Clone)]
pub struct Credential {
    pub token: String,
    pub api_key: String,
    pub org: String,
}

impl Credential {
    pub fn from_json(value: &Value) -> Credential {
        Credential {
            token: value["accessToken"].as_str().unwrap().to_owned(),
            api_key: value["apiKey"].as_str().unwrap().to_owned(),
            org: value["imsOrgId"].as_str().unwrap().to_owned(),
        }
    }

    pub fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request
            .bearer_auth(&self.token)
            .header("x-api-key", &self.api_key)
            .header("x-gw-ims-org-id", &self.org)
            .header("x-sandbox-name", "prod")
    }
}

impl Server {
    /// Starts `flowd serve` on 127.0.0.1:0 and waits until it listens.
    pub fn start(data_dir: &Path) -> Server {
        Server::start_with_log_level(data_dir, "info")
    }

    /// Same, logging at `level` (`debug` shows every request).
    pub fn start_with_log_level(data_dir: &Path, level: &str) -> Server {
        Server::start_with(data_dir, level, &[], &[])
    }

    /// Same, with extra `flowd serve` arguments.
    pub fn start_with_args(data_dir: &Path, arguments: &[&str]) -> Server {
        Server::start_with(data_dir, "info", arguments, &[])
    }

    /// Same, with extra arguments and environment variables.
    pub fn start_with_env(
        data_dir: &Path,
        arguments: &[&str],
        environment: &[(&str, &str)],
    ) -> Server {
        Server::start_with(data_dir, "info", arguments, environment)
    }

    fn start_with(
        data_dir: &Path,
        level: &str,
        arguments: &[&str],
        environment: &[(&str, &str)],
    ) -> Server {
        let mut child = flowd()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(arguments)
            .envs(environment.iter().copied())
            .env("FLOWD_LOG", level)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("flowd starts");
        let (address_sender, address_receiver) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let log_lines: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let collected = log_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                collected.lock().unwrap().push(line.clone());
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    // Text logs end the address with a space, JSON logs with a quote.
                    let address: String = rest
                        .split(|c: char| c.is_whitespace() || c == '"')
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = address_sender.send(address);
                }
            }
        });
        let address = address_receiver
            .recv_timeout(Duration::from_secs(30))
            .expect("flowd logs its address");
        // The credential, when printed, is written before the listen line.
        let stdout = child.stdout.take().unwrap();
        let (credential_sender, credential_receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = credential_sender.send(line);
            }
        });
        let printed_credential = credential_receiver
            .recv_timeout(Duration::from_millis(300))
            .ok()
            .map(|line| serde_json::from_str(&line).expect("the printed credential is JSON"));
        Server {
            child,
            endpoint: Endpoint {
                base_url: format!("http://{address}"),
            },
            printed_credential,
            log_lines,
        }
    }

    /// What the server logged so far.
    pub fn logs(&self) -> String {
        self.log_lines.lock().unwrap().join("\n")
    }

    /// Where it answers, apart from the process.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint.clone()
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        wait_with_timeout(&mut self.child, Duration::from_secs(20))
    }

    /// Waits for the process to stop by itself (a crash point) and says how it ended.
    pub fn wait_for_exit(mut self, timeout: Duration) -> std::process::ExitStatus {
        wait_with_timeout(&mut self.child, timeout)
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill_hard(mut self) {
        self.child.kill().unwrap();
        let _ = self.child.wait();
    }
}

pub fn wait_with_timeout(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "flowd did not exit in time"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl std::ops::Deref for Server {
    type Target = Endpoint;

    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flowd-data");
    (dir, path)
}
