//! A throwaway PostgreSQL cluster for tests: `initdb` and `pg_ctl` in a temporary directory,
//! listening on a free loopback port, stopped and removed when dropped.
//!
//! The server binaries are looked for in `FLOWD_POSTGRES_BIN`, then where `pg_config
//! --bindir` says, then in Debian's `/usr/lib/postgresql/<version>/bin` (newest first), then
//! on `PATH`. PostgreSQL refuses to run as root, so a test run as root starts the cluster as
//! the `postgres` user (which the Debian package creates). When no cluster can be started,
//! [`PostgresCluster::start_or_skip`] says why and the test skips, unless
//! `FLOWD_REQUIRE_POSTGRES=1` (CI) turns the skip into a failure.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

/// A running cluster; every database it hands out is fresh and empty.
pub struct PostgresCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    run_as: Option<&'static str>,
    databases: AtomicU32,
}

impl PostgresCluster {
    /// Starts a cluster for tests, or says why it cannot: commits are not flushed to disk
    /// (`fsync=off`), which nothing a test checks depends on.
    pub fn start() -> Result<PostgresCluster, String> {
        PostgresCluster::start_with(false)
    }

    /// Starts a cluster that flushes every commit to disk as a production server does, for
    /// benchmarks that compare it with SQLite's synchronous commits.
    pub fn start_durable() -> Result<PostgresCluster, String> {
        PostgresCluster::start_with(true)
    }

    fn start_with(durable: bool) -> Result<PostgresCluster, String> {
        let bin = server_binaries().ok_or(
            "no PostgreSQL server binaries (initdb, pg_ctl) were found; install Debian's \
             `postgresql` package or set FLOWD_POSTGRES_BIN",
        )?;
        let run_as = running_as_root().then_some("postgres");
        let dir = tempfile::Builder::new()
            .prefix("flowd-pg-")
            .tempdir()
            .map_err(|error| format!("cannot create a temporary directory: {error}"))?;
        if let Some(user) = run_as {
            let status = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(dir.path())
                .status()
                .map_err(|error| format!("cannot run chown: {error}"))?;
            if !status.success() {
                return Err(format!("cannot give the cluster directory to {user}"));
            }
        }
        let data = dir.path().join("data");
        let port = free_port()?;
        let cluster = PostgresCluster {
            bin,
            port,
            run_as,
            databases: AtomicU32::new(0),
            dir,
        };
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "flowd".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        let durability = if durable {
            "-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
        } else {
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        };
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {socket} {durability} \
             -c max_connections=300",
            socket = cluster.dir.path().display()
        );
        let log = cluster.dir.path().join("server.log");
        cluster
            .run(
                "pg_ctl",
                &[
                    "-D".as_ref(),
                    data.as_os_str(),
                    "-l".as_ref(),
                    log.as_os_str(),
                    "-o".as_ref(),
                    options.as_ref(),
                    "-w".as_ref(),
                    "-t".as_ref(),
                    "60".as_ref(),
                    "start".as_ref(),
                ],
            )
            .map_err(|error| {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                format!("{error}\n{log}")
            })?;
        Ok(cluster)
    }

    /// Starts a cluster for `test`, or prints why not and returns `None` (the test then
    /// skips), except when `FLOWD_REQUIRE_POSTGRES=1`, where it panics.
    pub fn start_or_skip(test: &str) -> Option<PostgresCluster> {
        match PostgresCluster::start() {
            Ok(cluster) => Some(cluster),
            Err(reason) if std::env::var("FLOWD_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
                panic!("{test} needs PostgreSQL (FLOWD_REQUIRE_POSTGRES=1): {reason}")
            }
            Err(reason) => {
                eprintln!("skipped {test}: {reason}");
                None
            }
        }
    }

    /// The URL of `database` on this cluster.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://flowd@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates a new empty database and returns its URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!("flowd_{}", self.databases.fetch_add(1, Ordering::Relaxed));
        let mut connection = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .expect("connect to the test cluster");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut connection)
            .await
            .expect("create a test database");
        connection.close().await.ok();
        self.url(&name)
    }

    /// The port the cluster listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server at once (as a crash would), keeping the directory.
    pub fn stop_immediately(&self) {
        let data = self.dir.path().join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        );
    }

    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> Result<(), String> {
        let program_path = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(&program_path);
                command
            }
            None => Command::new(&program_path),
        };
        command.args(args).current_dir(self.dir.path());
        let output = command
            .output()
            .map_err(|error| format!("cannot run {}: {error}", program_path.display()))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed ({}): {}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        self.stop_immediately();
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|error| format!("cannot find a free port: {error}"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|error| format!("cannot find a free port: {error}"))
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

fn server_binaries() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("FLOWD_POSTGRES_BIN").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    let mut debian: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    debian.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    from_pg_config
        .into_iter()
        .chain(debian.into_iter().map(|(_, dir)| dir))
        .chain(on_path)
        .find(|dir| has_server(dir))
}
