//! Connection credentials as runs and previews use them: where a
//! connection's auth params are sealed (the associated data binding each
//! ciphertext to its org, sandbox, connection and field), and writing OAuth
//! tokens refreshed by the runtime back to the connection, sealed.

use flowd_connector::RefreshedTokens;
use flowd_secrets::Cipher;
use flowd_secrets::sealed::{open_members, seal_members};
use flowd_store::{ResourceKind, Scope, Store};
use serde_json::{Map, Value, json};

/// Where a connection's auth params are sealed.
pub fn auth_params_place(scope: &Scope, connection_id: &str) -> String {
    format!(
        "connection/{}/{}/{connection_id}/auth.params",
        scope.org_id, scope.sandbox_name
    )
}

/// Writes refreshed tokens into the connection's sealed params (new etag).
/// A failure is logged, not returned: the request or run that caused the
/// refresh has succeeded, and the next refresh will try again.
pub async fn save_refreshed_tokens(
    store: &dyn Store,
    cipher: &Cipher,
    scope: &Scope,
    connection_id: &str,
    tokens: &RefreshedTokens,
) {
    let place = auth_params_place(scope, connection_id);
    for _attempt in 0..4 {
        let Ok(Some(stored)) = store
            .get_resource(scope, ResourceKind::Connection, connection_id)
            .await
        else {
            return;
        };
        let stored_params: Map<String, Value> = stored
            .body
            .pointer("/auth/params")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let Ok(mut plain) = open_members(cipher, &place, &stored_params) else {
            return;
        };
        plain.insert("accessToken".into(), json!(tokens.access_token.expose()));
        if let Some(refresh_token) = &tokens.refresh_token {
            plain.insert("refreshToken".into(), json!(refresh_token.expose()));
        }
        if let Some(expiration) = tokens.expiration {
            plain.insert("expirationDate".into(), json!(expiration.to_string()));
        }
        let mut secret_names: Vec<String> = stored_params
            .iter()
            .filter(|(_, value)| value.is_object())
            .map(|(name, _)| name.clone())
            .collect();
        secret_names.extend(["accessToken".to_owned(), "refreshToken".to_owned()]);
        let mut document = stored.body.clone();
        document["auth"]["params"] =
            Value::Object(seal_members(cipher, &place, &plain, &secret_names));
        let etag = format!("\"{}\"", uuid::Uuid::new_v4());
        document["etag"] = json!(etag);
        document["version"] = json!(etag);
        document["updatedAt"] = json!(jiff::Timestamp::now().as_millisecond());
        match store
            .replace_resource(
                scope,
                ResourceKind::Connection,
                connection_id,
                &document,
                Some(stored.revision),
            )
            .await
        {
            Ok(flowd_store::ReplaceOutcome::RevisionMismatch { .. }) => continue,
            Ok(_) => {
                tracing::info!(%connection_id, "refreshed oauth tokens saved");
                return;
            }
            Err(error) => {
                tracing::error!(%connection_id, %error, "refreshed oauth tokens could not be saved");
                return;
            }
        }
    }
}
