//! The key that seals connection secrets, against a real data dir: a server started with
//! another key refuses to start and names both key ids (never a key); with the old key passed
//! as an older one it starts and reads the secrets; `flowd secrets rotate` re-seals every
//! secret under the new key, after which the old key can be dropped.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use common::runs::{members, schedule_params, schedule_with_due_windows};
use common::workflow::{self, preview_status};
use common::{Credential, Server, data_dir};
use flowd_mockapi::{Auth, DEFAULT_LIST_ID, MockApi, Scenario};
use flowd_secrets::{ExposeSecret as _, SecretKey};
use flowd_store::{ResourceStore, Scope, SqliteStore};

const PASSWORD: &str = "secret-keys-password";

/// Writes a fresh key to `path` (owner-only) and returns its key id.
fn write_key(path: &Path) -> String {
    let key = SecretKey::generate().unwrap();
    std::fs::write(path, format!("{}\n", key.to_base64().expose_secret())).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    key.kid().to_owned()
}

/// `flowd serve` that is expected to refuse to start: its exit status and stderr.
fn serve_refused(data_dir: &Path, arguments: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = common::flowd()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(arguments)
        .env_remove("FLOWD_SECRET_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = common::wait_with_timeout(&mut child, Duration::from_secs(20));
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status, stderr)
}

/// The key ids of the connection's sealed params.
async fn sealed_kids(data_dir: &Path, connection_id: &str) -> Vec<String> {
    let store = SqliteStore::open_in_data_dir(data_dir).await.unwrap();
    let scope = Scope {
        org_id: "flowd@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    let stored = store
        .get_resource(&scope, flowd_model::ResourceKind::Connection, connection_id)
        .await
        .unwrap()
        .unwrap();
    flowd_plan::credentials::stored_params(&stored.body)
        .values()
        .filter_map(|value| flowd_secrets::sealed::sealed_token(value))
        .filter_map(flowd_secrets::token_kid)
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_refuses_to_start_and_a_rotation_moves_every_secret_to_the_new_key() {
    let (start_time, window_start) = schedule_with_due_windows(1);
    let mock = MockApi::start(Scenario::explicit(members(5, window_start, 60)).with_auth(
        Auth::Basic {
            username: "anystring".into(),
            password: PASSWORD.into(),
        },
    ))
    .await;
    let (dir, data_dir) = data_dir();
    // First start: the data dir's key is created and seals the connection's password.
    let server = Server::start(&data_dir);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let workflow = workflow::create(
        &reqwest::Client::new(),
        &credential,
        &server,
        &mock.base_url(),
        ("anystring", PASSWORD),
        DEFAULT_LIST_ID,
        schedule_params(start_time),
    )
    .await;
    assert!(server.terminate().success());
    let old_key = data_dir.join("secret.key");
    let old_kid = SecretKey::from_file(&old_key).unwrap().kid().to_owned();
    assert_eq!(
        sealed_kids(&data_dir, &workflow.connection_id).await,
        std::slice::from_ref(&old_kid)
    );

    // Another key alone: refused, naming both key ids and no key.
    let new_key = dir.path().join("new.key");
    let new_kid = write_key(&new_key);
    let new_key_arg = new_key.to_str().unwrap();
    let (status, stderr) = serve_refused(&data_dir, &["--secret-key-file", new_key_arg]);
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains(&old_kid)
            && stderr.contains(&new_kid)
            && stderr.contains("flowd secrets rotate"),
        "{stderr}"
    );
    for key in [&old_key, &new_key] {
        let text = std::fs::read_to_string(key).unwrap();
        assert!(!stderr.contains(text.trim()), "a key was printed: {stderr}");
    }

    // The new key with the old one as an older key: serves, and the secrets open.
    let old_key_arg = old_key.to_str().unwrap();
    let server = Server::start_with_args(
        &data_dir,
        &[
            "--secret-key-file",
            new_key_arg,
            "--old-secret-key-file",
            old_key_arg,
        ],
    );
    assert!(
        server.logs().contains("sealed with an older key"),
        "{}",
        server.logs()
    );
    assert_eq!(
        preview_status(
            &server,
            &credential,
            &workflow.connection_id,
            DEFAULT_LIST_ID,
            PASSWORD
        )
        .await,
        200
    );
    assert!(server.terminate().success());

    // Rotate: every secret is sealed with the new key; the old key can go.
    let output = common::flowd()
        .args(["secrets", "rotate", "--data-dir"])
        .arg(&data_dir)
        .args([
            "--secret-key-file",
            new_key_arg,
            "--old-secret-key-file",
            old_key_arg,
        ])
        .env_remove("FLOWD_SECRET_KEY")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&new_kid),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(
        sealed_kids(&data_dir, &workflow.connection_id).await,
        std::slice::from_ref(&new_kid)
    );
    std::fs::remove_file(&old_key).unwrap();
    let server = Server::start_with_args(&data_dir, &["--secret-key-file", new_key_arg]);
    assert!(!server.logs().contains("older key"), "{}", server.logs());
    assert_eq!(
        preview_status(
            &server,
            &credential,
            &workflow.connection_id,
            DEFAULT_LIST_ID,
            PASSWORD
        )
        .await,
        200
    );
    assert!(server.terminate().success());

    // And the key the secrets are no longer sealed with is refused from now on.
    let stale = dir.path().join("stale.key");
    let stale_kid = write_key(&stale);
    let (status, stderr) =
        serve_refused(&data_dir, &["--secret-key-file", stale.to_str().unwrap()]);
    assert!(
        !status.success() && stderr.contains(&new_kid) && stderr.contains(&stale_kid),
        "{stderr}"
    );
}
