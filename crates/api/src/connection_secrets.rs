//! Connection credentials at rest. Every auth param that is a secret (its
//! schema says `format: password`, or it is one of the credential names
//! every auth type uses) is stored as `{"flowdEncrypted": "<token>"}`, an
//! authenticated ciphertext whose associated data names its org, sandbox,
//! connection and field, so a ciphertext copied to another row does not
//! decrypt. Responses show secrets as [`MASK`]; a client that sends the mask
//! back (a GET edited and PATCHed) keeps the stored secret.

use flowd_secrets::{Cipher, ExposeSecret};
use flowd_store::Scope;
use serde_json::{Map, Value, json};

use crate::error::{ApiError, FlowError};

/// What every secret looks like in a response.
pub const MASK: &str = "********";

const ENCRYPTED_MARKER: &str = "flowdEncrypted";

fn associated_data(scope: &Scope, connection_id: &str, name: &str) -> String {
    format!(
        "connection/{}/{}/{connection_id}/auth.params.{name}",
        scope.org_id, scope.sandbox_name
    )
}

fn encrypted_token(value: &Value) -> Option<&str> {
    value.as_object()?.get(ENCRYPTED_MARKER)?.as_str()
}

/// Params as stored: secret values encrypted.
pub fn seal(
    cipher: &Cipher,
    scope: &Scope,
    connection_id: &str,
    plain: &Map<String, Value>,
    secret_names: &[String],
) -> Map<String, Value> {
    plain
        .iter()
        .map(|(name, value)| {
            let sealed = match value {
                Value::String(text) if secret_names.contains(name) => {
                    let token = cipher.encrypt(text, &associated_data(scope, connection_id, name));
                    json!({ ENCRYPTED_MARKER: token })
                }
                other => other.clone(),
            };
            (name.clone(), sealed)
        })
        .collect()
}

/// Plaintext params from stored ones.
pub fn open(
    cipher: &Cipher,
    scope: &Scope,
    connection_id: &str,
    stored: &Map<String, Value>,
) -> Result<Map<String, Value>, ApiError> {
    stored
        .iter()
        .map(|(name, value)| {
            let plain = match encrypted_token(value) {
                Some(token) => {
                    let secret = cipher
                        .decrypt(token, &associated_data(scope, connection_id, name))
                        .map_err(|error| {
                            tracing::error!(%error, connection_id, param = %name, "a stored secret cannot be decrypted");
                            FlowError::internal()
                        })?;
                    Value::String(secret.expose_secret().to_owned())
                }
                None => value.clone(),
            };
            Ok((name.clone(), plain))
        })
        .collect()
}

/// Params as shown to clients: every encrypted value replaced by the mask.
pub fn masked(stored: &Map<String, Value>) -> Map<String, Value> {
    stored
        .iter()
        .map(|(name, value)| {
            let shown = if encrypted_token(value).is_some() {
                Value::String(MASK.to_owned())
            } else {
                value.clone()
            };
            (name.clone(), shown)
        })
        .collect()
}

/// Plaintext params from what a client sent: the mask (or an encrypted
/// marker left in a patched document) stands for the previous value.
pub fn resolve_client_params(
    sent: &Map<String, Value>,
    previous_plain: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    sent.iter()
        .filter_map(|(name, value)| {
            let keeps_previous = value.as_str() == Some(MASK) || encrypted_token(value).is_some();
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
