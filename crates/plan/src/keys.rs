//! The secret key against the store: checked at start-up so a process started with the wrong
//! key refuses to start (instead of failing run by run), and rotated by re-sealing every stored
//! secret under the current key.
//!
//! The store keeps a key check (`CredentialStore::secret_key_check`): a token sealed with the
//! key that seals its secrets. A store written before it existed gets one on the first start
//! whose keys open every sealed secret.

use std::collections::BTreeSet;

use flowd_model::ResourceKind;
use flowd_secrets::sealed::sealed_token;
use flowd_secrets::{Cipher, KeyCheck, SecretsError, token_kid};
use flowd_store::{ReplaceOutcome, Store, StoreError};

use crate::credentials::{open, replace_params, seal, stored_params};

/// Why the keys of this process cannot serve the store.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "the store's secrets are sealed with key id {sealed_with}, and this process has key id{} {}: start it with the key that sealed them (FLOWD_SECRET_KEY, --secret-key-file or the data dir's secret.key), or pass that key with --old-secret-key-file and run `flowd secrets rotate`",
        if loaded.len() > 1 { "s" } else { "" },
        loaded.join(", ")
    )]
    WrongKey {
        sealed_with: String,
        loaded: Vec<String>,
    },
    #[error("the store's secret-key check does not open: {0}")]
    CorruptCheck(SecretsError),
    #[error("the store could not be read or written: {0}")]
    Store(#[from] StoreError),
}

/// What the check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyStatus {
    /// The secrets are sealed with the current key.
    Current,
    /// They are sealed with an older key this process also has: `flowd secrets rotate` moves
    /// them to the current one.
    RotationPending { kid: String },
}

/// Checks that `cipher` opens the store's secrets (see the module documentation); writes the
/// check when the store has none yet.
pub async fn verify_secret_key(store: &dyn Store, cipher: &Cipher) -> Result<KeyStatus, KeyError> {
    let wrong_key = |sealed_with: &str| KeyError::WrongKey {
        sealed_with: sealed_with.to_owned(),
        loaded: cipher.kids().into_iter().map(str::to_owned).collect(),
    };
    if let Some(check) = store.secret_key_check().await? {
        return match cipher.verify_key_check(&check) {
            Ok(KeyCheck::Current) => Ok(KeyStatus::Current),
            Ok(KeyCheck::Older { kid }) => Ok(KeyStatus::RotationPending { kid }),
            Err(SecretsError::UnknownKeyId { kid, .. }) => Err(wrong_key(&kid)),
            Err(error) => Err(KeyError::CorruptCheck(error)),
        };
    }
    let known: BTreeSet<&str> = cipher.kids().into_iter().collect();
    for kid in sealed_key_ids(store).await? {
        if !known.contains(kid.as_str()) {
            return Err(wrong_key(&kid));
        }
    }
    store.set_secret_key_check(&cipher.key_check()).await?;
    Ok(KeyStatus::Current)
}

/// The key ids of every sealed secret in the store.
async fn sealed_key_ids(store: &dyn Store) -> Result<BTreeSet<String>, StoreError> {
    let mut kids = BTreeSet::new();
    for (_, stored) in store.list_all_resources(ResourceKind::Connection).await? {
        for value in stored_params(&stored.body).values() {
            if let Some(kid) = sealed_token(value).and_then(token_kid) {
                kids.insert(kid.to_owned());
            }
        }
    }
    Ok(kids)
}

/// Re-seals every stored secret under the cipher's current key (opening it with whichever key
/// sealed it), then records the current key's check. Returns how many connections changed.
/// A connection written meanwhile is read again.
pub async fn rotate_secrets(store: &dyn Store, cipher: &Cipher) -> Result<usize, RotateError> {
    let current = cipher.current_kid().to_owned();
    let mut resealed = 0;
    for (scope, mut stored) in store.list_all_resources(ResourceKind::Connection).await? {
        loop {
            let params = stored_params(&stored.body);
            let secret_names: Vec<String> = params
                .iter()
                .filter_map(|(name, value)| sealed_token(value).map(|token| (name, token)))
                .filter(|(_, token)| token_kid(token) != Some(current.as_str()))
                .map(|(name, _)| name.clone())
                .collect();
            if secret_names.is_empty() {
                break;
            }
            let plain = open(cipher, &scope, &stored.id, &params).map_err(|source| {
                RotateError::Unreadable {
                    connection_id: stored.id.clone(),
                    source,
                }
            })?;
            let all_sealed: Vec<String> = params
                .iter()
                .filter(|(_, value)| sealed_token(value).is_some())
                .map(|(name, _)| name.clone())
                .collect();
            let sealed = seal(cipher, &scope, &stored.id, &plain, &all_sealed);
            match replace_params(store, &scope, &stored.id, &stored, sealed).await? {
                ReplaceOutcome::RevisionMismatch { .. } => {
                    match store
                        .get_resource(&scope, ResourceKind::Connection, &stored.id)
                        .await?
                    {
                        Some(again) => stored = again,
                        None => break,
                    }
                }
                _ => {
                    resealed += 1;
                    break;
                }
            }
        }
    }
    store.set_secret_key_check(&cipher.key_check()).await?;
    Ok(resealed)
}

/// Why a rotation stopped.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(
        "the secrets of connection {connection_id} cannot be opened with the keys given ({source}); pass the key that sealed them with --old-secret-key-file"
    )]
    Unreadable {
        connection_id: String,
        source: SecretsError,
    },
    #[error("the store could not be read or written: {0}")]
    Store(#[from] StoreError),
}
