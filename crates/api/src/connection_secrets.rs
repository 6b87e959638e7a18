//! Connection credentials at rest. Every auth param that is a secret (its
//! schema says `format: password`, or it is one of the credential names
//! every auth type uses) is sealed with `flowd_secrets::sealed`, bound to
//! its org, sandbox, connection and field, so a ciphertext copied to another
//! row does not decrypt. Responses show secrets as [`MASK`]; a client that
//! sends the mask back (a GET edited and PATCHed) keeps the stored secret.

use flowd_scheduler::credentials::auth_params_place;
use flowd_secrets::Cipher;
pub use flowd_secrets::sealed::MASK;
use flowd_secrets::sealed::{masked_members, open_members, seal_members, sealed_token};
use flowd_store::Scope;
use serde_json::{Map, Value};

use crate::error::{ApiError, FlowError};

/// Params as stored: secret values sealed.
pub fn seal(
    cipher: &Cipher,
    scope: &Scope,
    connection_id: &str,
    plain: &Map<String, Value>,
    secret_names: &[String],
) -> Map<String, Value> {
    seal_members(
        cipher,
        &auth_params_place(scope, connection_id),
        plain,
        secret_names,
    )
}

/// Plaintext params from stored ones.
pub fn open(
    cipher: &Cipher,
    scope: &Scope,
    connection_id: &str,
    stored: &Map<String, Value>,
) -> Result<Map<String, Value>, ApiError> {
    open_members(cipher, &auth_params_place(scope, connection_id), stored).map_err(|error| {
        tracing::error!(%error, connection_id, "stored credentials cannot be decrypted");
        FlowError::internal().into()
    })
}

/// Params as shown to clients: every sealed value replaced by the mask.
pub fn masked(stored: &Map<String, Value>) -> Map<String, Value> {
    masked_members(stored)
}

/// Plaintext params from what a client sent: the mask (or a sealed value
/// left in a patched document) stands for the previous value.
pub fn resolve_client_params(
    sent: &Map<String, Value>,
    previous_plain: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    sent.iter()
        .filter_map(|(name, value)| {
            let keeps_previous = value.as_str() == Some(MASK) || sealed_token(value).is_some();
            if keeps_previous {
                previous_plain
                    .and_then(|previous| previous.get(name))
                    .map(|previous| (name.clone(), previous.clone()))
            } else {
                Some((name.clone(), value.clone()))
            }
        })
        .collect()
}
