//! `SecretKey::load_or_create` reading the real `FLOWD_SECRET_KEY` variable.
//!
//! Threat model reminder: the env var lets deployments keep the key out of the data directory
//! (and so out of its backups) entirely. Setting environment variables in-process is `unsafe`
//! (and this workspace forbids unsafe code), so the test re-runs this test binary as a child
//! process with the variable set, and the child does the checking.

use std::path::Path;
use std::process::Command;

use flowd_secrets::{KEY_FILE_NAME, SECRET_KEY_ENV, SecretKey, SecretsError};

const CHILD_DATA_DIR_ENV: &str = "FLOWD_SECRETS_TEST_CHILD_DATA_DIR";
const CHILD_EXPECTATION_ENV: &str = "FLOWD_SECRETS_TEST_CHILD_EXPECTATION";

/// 32 bytes 0..=31 in standard base64.
const COUNTING_KEY_BASE64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Runs `test_name` from this binary in a child process with `env_value` as `FLOWD_SECRET_KEY`.
fn run_child(test_name: &str, data_dir: &Path, env_value: &str, expectation: &str) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(SECRET_KEY_ENV, env_value)
        .env(CHILD_DATA_DIR_ENV, data_dir)
        .env(CHILD_EXPECTATION_ENV, expectation)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("1 passed"),
        "child ran no test:\n{stdout}\n{stderr}"
    );
}

#[test]
fn env_var_wins_over_key_file() {
    if let Some(data_dir) = std::env::var_os(CHILD_DATA_DIR_ENV) {
        let key = SecretKey::load_or_create(Path::new(&data_dir)).unwrap();
        let expected_kid = std::env::var(CHILD_EXPECTATION_ENV).unwrap();
        assert_eq!(key.kid(), expected_kid);
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    let env_key = SecretKey::from_env_value(COUNTING_KEY_BASE64).unwrap();
    run_child(
        "env_var_wins_over_key_file",
        data_dir.path(),
        COUNTING_KEY_BASE64,
        env_key.kid(),
    );
    assert!(
        !data_dir.path().join(KEY_FILE_NAME).exists(),
        "env var set: no key file created"
    );
}

#[test]
fn env_var_of_wrong_length_is_refused_without_printing_it() {
    if let Some(data_dir) = std::env::var_os(CHILD_DATA_DIR_ENV) {
        let error = SecretKey::load_or_create(Path::new(&data_dir)).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, SecretsError::InvalidEnvKey { .. }),
            "{error:?}"
        );
        assert!(message.contains(SECRET_KEY_ENV), "{message}");
        let env_value = std::env::var(SECRET_KEY_ENV).unwrap();
        assert!(!message.contains(&env_value), "{message}");
        assert!(!format!("{error:?}").contains(&env_value));
        println!("error message: {message}");
        return;
    }
    let data_dir = tempfile::tempdir().unwrap();
    run_child(
        "env_var_of_wrong_length_is_refused_without_printing_it",
        data_dir.path(),
        "dG9vLXNob3J0LWtleQ==",
        "",
    );
}
