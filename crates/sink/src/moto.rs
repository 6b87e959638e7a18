//! An S3-compatible server for tests: the `moto` server (PyPI `moto[server]`) on a free
//! loopback port, killed when dropped (feature `conformance`).
//!
//! [`MotoServer::start_or_skip`] says why no server could be started and the test skips,
//! unless `FLOWD_REQUIRE_S3=1` (CI) turns the skip into a failure.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::{ObjectDatasets, SinkError};

/// A running moto server with one bucket.
pub struct MotoServer {
    child: Child,
    port: u16,
    bucket: String,
    prefixes: AtomicU32,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MotoServer {
    /// Starts a server with the bucket `flowd-test`, or says why it cannot.
    pub fn start() -> Result<MotoServer, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|error| format!("cannot find a free port: {error}"))?
            .port();
        let spawn = |program: &str, prefix: &[&str]| {
            Command::new(program)
                .args(prefix)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        };
        let child = spawn("moto_server", &[])
            .or_else(|_| spawn("python3", &["-m", "moto.server"]))
            .map_err(|error| {
                format!("cannot run moto_server (pip install 'moto[server]'): {error}")
            })?;
        let mut server = MotoServer {
            child,
            port,
            bucket: "flowd-test".to_owned(),
            prefixes: AtomicU32::new(0),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "the moto server exited at once ({status}); is `moto[server]` installed?"
                ));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err("the moto server did not listen within 30 s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        server.create_bucket()?;
        Ok(server)
    }

    /// Starts a server for `test`, or prints why not and returns `None` (the test then
    /// skips), except when `FLOWD_REQUIRE_S3=1`, where it panics.
    pub fn start_or_skip(test: &str) -> Option<MotoServer> {
        match MotoServer::start() {
            Ok(server) => Some(server),
            Err(reason) if std::env::var("FLOWD_REQUIRE_S3").as_deref() == Ok("1") => {
                panic!("{test} needs an S3-compatible server (FLOWD_REQUIRE_S3=1): {reason}")
            }
            Err(reason) => {
                eprintln!("skipped {test}: {reason}");
                None
            }
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The bucket every prefix lives in.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The variables a flowd process needs to reach the server (`AWS_ENDPOINT_URL`,
    /// `AWS_ALLOW_HTTP`, test credentials, a region).
    pub fn environment(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_ACCESS_KEY_ID", "flowd-test-key".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "flowd-test-secret".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
    }

    /// Datasets under a new, empty prefix of the bucket, staging under `local_dir`; with the
    /// prefix.
    pub fn fresh_datasets(&self, local_dir: &Path) -> Result<(ObjectDatasets, String), SinkError> {
        let prefix = format!("run-{}", self.prefixes.fetch_add(1, Ordering::Relaxed));
        let datasets = ObjectDatasets::with_store(
            Arc::new(self.client()?),
            &format!("s3://{}/{prefix}", self.bucket),
            &prefix,
            local_dir,
        )?;
        Ok((datasets, prefix))
    }

    /// A client of the bucket, for looking at what readers see.
    pub fn client(&self) -> Result<object_store::aws::AmazonS3, SinkError> {
        object_store::aws::AmazonS3Builder::new()
            .with_endpoint(self.endpoint())
            .with_allow_http(true)
            .with_bucket_name(&self.bucket)
            .with_region("us-east-1")
            .with_access_key_id("flowd-test-key")
            .with_secret_access_key("flowd-test-secret")
            .build()
            .map_err(|error| SinkError::InvalidLocation {
                shown: self.endpoint(),
                reason: error.to_string(),
            })
    }

    /// `PUT /BUCKET`: moto accepts it unsigned.
    fn create_bucket(&self) -> Result<(), String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))
            .map_err(|error| format!("cannot reach the moto server: {error}"))?;
        let request = format!(
            "PUT /{} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.bucket, self.port
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|error| format!("cannot create the test bucket: {error}"))?;
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
            Ok(())
        } else {
            Err(format!(
                "creating the test bucket answered {:?}",
                answer.lines().next().unwrap_or_default()
            ))
        }
    }
}
