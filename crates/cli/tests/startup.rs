//! `flowd serve`'s start-up: the port bound before anything is created (a busy one fails at
//! once and leaves no data dir), and `--config flowd.toml` with flags and environment
//! variables taking precedence over the file.

mod common;

use std::path::Path;
use std::process::Output;

use common::{Server, data_dir, flowd};

/// Runs `flowd serve` to its end (it must fail), with a fresh data dir.
fn serve_failing(arguments: &[&str], environment: &[(&str, &str)], data_dir: &Path) -> Output {
    let mut command = flowd();
    command
        .arg("serve")
        .args(arguments)
        .arg("--data-dir")
        .arg(data_dir)
        .envs(environment.iter().copied())
        .env_remove("FLOWD_CONFIG")
        .env_remove("FLOWD_LISTEN")
        .env_remove("FLOWD_WORKERS");
    let output = command.output().expect("flowd runs");
    assert!(
        !output.status.success(),
        "flowd serve was expected to fail: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `workers = N` of the "workers started" line the server logged.
fn workers_logged(server: &Server) -> String {
    let logs = server.logs();
    let line = logs
        .lines()
        .find(|line| line.contains("listening on http://"))
        .unwrap_or_else(|| panic!("no listening line in:\n{logs}"))
        .to_owned();
    line.split("workers=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no workers= in {line}"))
        .to_owned()
}

#[test]
fn a_busy_port_fails_at_once_and_creates_nothing() {
    let occupied = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = occupied.local_addr().unwrap().to_string();
    let (_dir, data_dir) = data_dir();
    let output = serve_failing(&["--listen", &address], &[], &data_dir);
    let stderr = stderr(&output);
    assert!(
        stderr.contains(&format!(
            "cannot listen on {address}: the address is already in use (is another flowd running? choose another with --listen or FLOWD_LISTEN)"
        )),
        "{stderr}"
    );
    assert!(
        !data_dir.exists(),
        "nothing is created before the port is bound: {:?}",
        std::fs::read_dir(&data_dir).map(|entries| entries.count())
    );
    assert!(
        output.stdout.is_empty(),
        "no credential is printed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn the_start_line_names_the_data_dir_as_an_absolute_path() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start(&data_dir);
    let logs = server.logs();
    let start = logs
        .lines()
        .find(|line| line.contains("starting"))
        .unwrap_or_else(|| panic!("no start line in:\n{logs}"));
    assert!(
        start.contains(&format!("data_dir={}", data_dir.display())),
        "{start}"
    );
    assert!(data_dir.is_absolute());
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("flowd.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn a_config_file_value_is_used() {
    let (dir, data_dir) = data_dir();
    let config = write_config(
        dir.path(),
        "workers = 3\ndeny-upstream = [\"link-local\"]\n",
    );
    let server = Server::start_with_args(&data_dir, &["--config", &config]);
    assert_eq!(workers_logged(&server), "3");
}

#[test]
fn the_environment_beats_the_config_file_and_a_flag_beats_both() {
    let (dir, data_dir) = data_dir();
    let config = write_config(dir.path(), "workers = 3\n");
    let from_env = Server::start_with_env(
        &data_dir,
        &[],
        &[("FLOWD_CONFIG", config.as_str()), ("FLOWD_WORKERS", "4")],
    );
    assert_eq!(
        workers_logged(&from_env),
        "4",
        "the environment beats the file"
    );
    drop(from_env);
    let from_flag = Server::start_with_env(
        &data_dir,
        &["--config", &config, "--workers", "5"],
        &[("FLOWD_WORKERS", "4")],
    );
    assert_eq!(workers_logged(&from_flag), "5", "a flag beats both");
}

#[test]
fn the_config_file_cannot_override_the_command_line_listen() {
    // The harness passes --listen 127.0.0.1:0; a file's listen loses to it.
    let (dir, data_dir) = data_dir();
    let occupied = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = occupied.local_addr().unwrap();
    let config = write_config(dir.path(), &format!("listen = \"{busy}\"\n"));
    let server = Server::start_with_args(&data_dir, &["--config", &config]);
    assert_ne!(server.base_url, format!("http://{busy}"));
}

#[test]
fn an_unknown_key_is_refused_with_its_name_and_the_close_ones() {
    let (dir, data_dir) = data_dir();
    let config = write_config(dir.path(), "worker = 4\n");
    let output = serve_failing(&["--config", &config], &[], &data_dir);
    let stderr = stderr(&output);
    assert!(
        stderr.contains("unknown key `worker` (did you mean `workers`?)"),
        "{stderr}"
    );
    assert!(stderr.contains("flowd.toml"), "the file is named: {stderr}");
    assert!(!data_dir.exists(), "nothing is created");
}

#[test]
fn a_value_of_the_wrong_type_names_its_key() {
    let (dir, data_dir) = data_dir();
    for (text, expected) in [
        (
            "workers = \"many\"\n",
            "`workers`: invalid value 'many' for '--workers",
        ),
        (
            "listen = [\"127.0.0.1:1\"]\n",
            "`listen` takes one value, not a list",
        ),
        (
            "role = \"everything\"\n",
            "`role`: invalid value 'everything'",
        ),
    ] {
        let config = write_config(dir.path(), text);
        let output = serve_failing(&["--config", &config], &[], &data_dir);
        let stderr = stderr(&output);
        assert!(stderr.contains(expected), "{text}: {stderr}");
    }
}

#[test]
fn the_example_config_file_is_accepted() {
    let example = format!("{}/../../examples/flowd.toml", env!("CARGO_MANIFEST_DIR"));
    let (_dir, data_dir) = data_dir();
    // The harness's --listen and --data-dir beat the file's.
    let server = Server::start_with_args(&data_dir, &["--config", &example]);
    assert_eq!(workers_logged(&server), "4");
}
