//! `flowd serve` and `flowd credentials create`: open the store in the data
//! directory, bootstrap the first credential, and run the API until SIGINT
//! or SIGTERM.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use flowd_api::{ApiConfig, AppState, IssuedCredential, issue_credential};
use flowd_secrets::{Cipher, SecretKey};
use flowd_store::{SqliteStore, Store};
use tracing_subscriber::EnvFilter;

use crate::ServeArgs;

/// The org of the credential created on an empty data directory.
pub const BOOTSTRAP_ORG_ID: &str = "flowd@AdobeOrg";
/// File (owner-only) holding that first credential inside the data dir.
pub const BOOTSTRAP_CREDENTIAL_FILE: &str = "initial-credential.json";

fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("FLOWD_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logging();
    let store = SqliteStore::open_in_data_dir(&args.data_dir)
        .await
        .with_context(|| format!("opening the store in {}", args.data_dir.display()))?;
    if store.count_credentials().await? == 0 {
        bootstrap_credential(&store, &args.data_dir).await?;
    }
    let secret_key = SecretKey::load_or_create(&args.data_dir)
        .context("loading the key that encrypts connection credentials")?;
    let state = AppState::new(
        Arc::new(store.clone()),
        ApiConfig {
            max_body_bytes: args.max_body_bytes,
            ..ApiConfig::default()
        },
        Cipher::new(secret_key),
    );
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(data_dir = %args.data_dir.display(), "listening on http://{address}");
    axum::serve(listener, flowd_api::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Creates the first credential of an empty data dir, prints it once and
/// keeps a copy readable only by the owner, for the README's quick start.
async fn bootstrap_credential(store: &SqliteStore, data_dir: &Path) -> anyhow::Result<()> {
    let credential = issue_credential(store, BOOTSTRAP_ORG_ID).await?;
    let path = data_dir.join(BOOTSTRAP_CREDENTIAL_FILE);
    write_owner_only(&path, &credential).with_context(|| format!("writing {}", path.display()))?;
    println!("{}", serde_json::to_string(&credential)?);
    std::io::stdout().flush()?;
    tracing::info!(
        file = %path.display(),
        "created the first credential for org {BOOTSTRAP_ORG_ID}; it is printed above and saved in that file"
    );
    Ok(())
}

fn write_owner_only(path: &Path, credential: &IssuedCredential) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    serde_json::to_writer_pretty(&mut file, credential)?;
    file.write_all(b"\n")?;
    file.sync_all()
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

pub async fn create_credential(data_dir: PathBuf, org: String) -> anyhow::Result<()> {
    let org = org.trim();
    anyhow::ensure!(!org.is_empty(), "--org must not be empty");
    let store = SqliteStore::open_in_data_dir(&data_dir)
        .await
        .with_context(|| format!("opening the store in {}", data_dir.display()))?;
    let credential = issue_credential(&store, org).await?;
    println!("{}", serde_json::to_string(&credential)?);
    store.close().await;
    Ok(())
}
