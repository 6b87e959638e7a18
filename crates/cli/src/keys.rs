//! The keys that seal connection secrets, from the command line: the current key (from
//! `FLOWD_SECRET_KEY`, `--secret-key-file`, or the data dir's `secret.key`) and older keys
//! still accepted for reading (`--old-secret-key-file`), and `flowd secrets rotate`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use flowd_secrets::{Cipher, SECRET_KEY_ENV, SecretKey};

/// Where the keys come from.
#[derive(clap::Args, Debug, Clone)]
pub struct KeyArgs {
    /// File holding the key that seals connection secrets (one line: base64 of 32 bytes,
    /// owner-only permissions). Default: FLOWD_SECRET_KEY, else the data dir's secret.key
    /// (created on first start).
    #[arg(long, env = "FLOWD_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// A key secrets may still be sealed with, read but never written (repeatable, or
    /// comma-separated in FLOWD_OLD_SECRET_KEY_FILES): pass the previous key while rotating.
    #[arg(
        long = "old-secret-key-file",
        env = "FLOWD_OLD_SECRET_KEY_FILES",
        value_delimiter = ','
    )]
    pub old_secret_key_files: Vec<PathBuf>,
}

/// The cipher of `keys`: the current key first, then the older ones.
pub fn load_cipher(data_dir: &Path, keys: &KeyArgs) -> anyhow::Result<Cipher> {
    let current = match &keys.secret_key_file {
        Some(path) => {
            anyhow::ensure!(
                std::env::var_os(SECRET_KEY_ENV).is_none(),
                "both {SECRET_KEY_ENV} and --secret-key-file give the secret key; give one"
            );
            SecretKey::from_file(path)
                .with_context(|| format!("reading the secret key file {}", path.display()))?
        }
        None => SecretKey::load_or_create(data_dir)
            .context("loading the key that encrypts connection credentials")?,
    };
    let older = keys
        .old_secret_key_files
        .iter()
        .map(|path| {
            SecretKey::from_file(path)
                .with_context(|| format!("reading the old secret key file {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Cipher::new(current).with_decryption_keys(older))
}

/// `flowd secrets rotate`: re-seals every stored secret under the current key.
pub async fn rotate(
    data_dir: PathBuf,
    store_url: Option<String>,
    keys: KeyArgs,
) -> anyhow::Result<()> {
    let cipher = load_cipher(&data_dir, &keys)?;
    let store = crate::data::open_store(&data_dir, store_url.as_deref()).await?;
    let resealed = flowd_plan::keys::rotate_secrets(store.as_ref(), &cipher).await?;
    println!(
        "{resealed} connection(s) re-sealed; every secret is now sealed with key id {}",
        cipher.current_kid()
    );
    store.close().await;
    Ok(())
}
