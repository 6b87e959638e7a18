//! Connection credentials at rest. Every auth param that is a secret (its schema says
//! `format: password`, or it is one of the credential names every auth type uses) is sealed
//! with `flowd_secrets::sealed`, bound to its org, sandbox, connection and field, so a
//! ciphertext copied to another row does not decrypt. Clients see secrets as [`MASK`]; one
//! that sends the mask back (a GET edited and PATCHed) keeps the stored secret.

use std::sync::Arc;

use flowd_connector::secret::Secret;
use flowd_connector::{RefreshedTokens, TokenStore};
use flowd_model::ResourceKind;
pub use flowd_secrets::sealed::MASK;
use flowd_secrets::sealed::{masked_members, open_members, seal_members, sealed_token};
use flowd_secrets::{Cipher, SecretsError};
use flowd_store::{
    ReplaceOutcome, ResourceStore, ResourceWrite, Scope, StoreError, StoredResource,
};
use serde_json::{Map, Value, json};

/// Where a connection's auth params are sealed (the associated data of each ciphertext).
fn auth_params_place(scope: &Scope, connection_id: &str) -> String {
    format!(
        "connection/{}/{}/{connection_id}/auth.params",
        scope.org_id, scope.sandbox_name
    )
}

/// Params as stored: the members named in `secret_names` sealed.
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
) -> Result<Map<String, Value>, SecretsError> {
    open_members(cipher, &auth_params_place(scope, connection_id), stored)
}

/// Params as shown to clients: every sealed value replaced by the mask.
pub fn masked(stored: &Map<String, Value>) -> Map<String, Value> {
    masked_members(stored)
}

/// Plaintext params from what a client sent: the mask (or a sealed value left in a patched
/// document) stands for the previous value.
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

/// The stored `auth.params` of a connection document.
pub fn stored_params(connection_document: &Value) -> Map<String, Value> {
    connection_document
        .pointer("/auth/params")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The [`TokenStore`] of one connection: tokens a refresh obtained are sealed into its stored
/// params right away (before the new access token is used), and read back from them when the
/// token endpoint refuses a refresh token another process may have rotated.
pub struct ConnectionTokens {
    store: Arc<dyn ResourceStore>,
    cipher: Arc<Cipher>,
    scope: Scope,
    connection_id: String,
}

impl ConnectionTokens {
    pub fn new(
        store: Arc<dyn ResourceStore>,
        cipher: Arc<Cipher>,
        scope: Scope,
        connection_id: &str,
    ) -> Arc<ConnectionTokens> {
        Arc::new(ConnectionTokens {
            store,
            cipher,
            scope,
            connection_id: connection_id.to_owned(),
        })
    }

    /// The key of the connection among a process's shared sessions
    /// (`flowd_connector::AuthSessions`).
    pub fn session_key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}",
            self.scope.org_id, self.scope.sandbox_name, self.connection_id
        )
    }
}

/// Keeps refreshed tokens in memory, for a probe of credentials not stored yet (a connection
/// being created or updated): [`apply_tokens`] then puts them into what is stored, so a
/// refresh token rotated by the probe is not lost.
#[derive(Default)]
pub struct TokensInMemory {
    tokens: std::sync::Mutex<Option<RefreshedTokens>>,
}

impl TokensInMemory {
    /// The latest tokens a refresh obtained, if any.
    pub fn take(&self) -> Option<RefreshedTokens> {
        self.tokens.lock().expect("token lock").take()
    }
}

#[async_trait::async_trait]
impl TokenStore for TokensInMemory {
    async fn save(&self, tokens: &RefreshedTokens) {
        *self.tokens.lock().expect("token lock") = Some(tokens.clone());
    }
}

/// Puts refreshed tokens into plaintext auth params.
pub fn apply_tokens(plain: &mut Map<String, Value>, tokens: &RefreshedTokens) {
    plain.insert("accessToken".into(), json!(tokens.access_token.expose()));
    if let Some(refresh_token) = &tokens.refresh_token {
        plain.insert("refreshToken".into(), json!(refresh_token.expose()));
    }
    if let Some(expiration) = tokens.expiration {
        plain.insert("expirationDate".into(), json!(expiration.to_string()));
    }
}

/// Gives `plan` the process's session of the connection `tokens` keeps, when one can serve it
/// (`flowd_connector::AuthSessions::share`), so every run and preview of a connection
/// refreshes through one session.
pub async fn share_session(
    sessions: &flowd_connector::AuthSessions,
    tokens: &ConnectionTokens,
    plan: &mut flowd_connector::RunPlan,
) {
    if let Some(fresh) = plan.auth.take() {
        plan.auth = Some(sessions.share(&tokens.session_key(), fresh).await);
    }
}

#[async_trait::async_trait]
impl TokenStore for ConnectionTokens {
    async fn save(&self, tokens: &RefreshedTokens) {
        save_tokens(
            self.store.as_ref(),
            &self.cipher,
            &self.scope,
            &self.connection_id,
            tokens,
        )
        .await;
    }

    async fn load(&self) -> Option<RefreshedTokens> {
        let stored = self
            .store
            .get_resource(&self.scope, ResourceKind::Connection, &self.connection_id)
            .await
            .ok()??;
        let plain = open(
            &self.cipher,
            &self.scope,
            &self.connection_id,
            &stored_params(&stored.body),
        )
        .ok()?;
        let text = |name: &str| plain.get(name).and_then(Value::as_str).map(Secret::new);
        Some(RefreshedTokens {
            access_token: text("accessToken")?,
            refresh_token: text("refreshToken"),
            expiration: plain
                .get("expirationDate")
                .and_then(flowd_connector::auth::parse_expiration),
        })
    }
}

/// Replaces the stored `auth.params` of a connection with `sealed_params` under a new etag, if
/// the connection is still at `stored`'s revision.
pub(crate) async fn replace_params(
    store: &dyn ResourceStore,
    scope: &Scope,
    connection_id: &str,
    stored: &StoredResource,
    sealed_params: Map<String, Value>,
) -> Result<ReplaceOutcome, StoreError> {
    let mut document = stored.body.clone();
    document["auth"]["params"] = Value::Object(sealed_params);
    let etag = format!("\"{}\"", flowd_model::ids::new_resource_id());
    document["etag"] = json!(etag);
    document["version"] = json!(etag);
    document["updatedAt"] = json!(flowd_model::time::now_millis());
    let write = ResourceWrite {
        references: None,
        ..ResourceWrite::document(&document)
    };
    store
        .replace_resource(
            scope,
            ResourceKind::Connection,
            connection_id,
            write,
            Some(stored.revision),
        )
        .await
}

/// Seals the secrets a connection keeps in clear: those stored before the rule for what is a
/// secret ([`flowd_spec::AuthSpec::is_secret_param`]) covered them, such as a KeyBased key
/// without `format: password`. Run at startup, before requests are served; returns how many
/// connections were resealed. A connection whose spec no longer resolves is left as it is.
pub async fn seal_clear_secrets(
    store: &dyn ResourceStore,
    cipher: &Cipher,
) -> Result<usize, StoreError> {
    let mut resealed = 0;
    for (scope, stored) in store.list_all_resources(ResourceKind::Connection).await? {
        let Some(auth_spec) = stored_auth_spec(store, &scope, &stored.body).await else {
            continue;
        };
        let stored_params = stored_params(&stored.body);
        let in_clear: Vec<String> = auth_spec
            .secret_param_names(&stored_params)
            .into_iter()
            .filter(|name| stored_params.get(name).is_some_and(Value::is_string))
            .collect();
        if in_clear.is_empty() {
            continue;
        }
        // Sealing leaves sealed members as they are and seals the clear ones.
        let sealed = seal(cipher, &scope, &stored.id, &stored_params, &in_clear);
        match replace_params(store, &scope, &stored.id, &stored, sealed).await? {
            ReplaceOutcome::RevisionMismatch { .. } => {}
            _ => {
                tracing::info!(connection_id = %stored.id, params = ?in_clear, "secrets kept in clear sealed");
                resealed += 1;
            }
        }
    }
    Ok(resealed)
}

/// The auth spec a stored connection document uses, if its spec and auth spec resolve.
async fn stored_auth_spec(
    store: &dyn ResourceStore,
    scope: &Scope,
    connection: &Value,
) -> Option<flowd_spec::AuthSpec> {
    let spec_id = connection.pointer("/connectionSpec/id")?.as_str()?;
    let spec_name = connection.pointer("/auth/specName")?.as_str()?;
    let spec = store
        .get_resource(scope, ResourceKind::ConnectionSpec, spec_id)
        .await
        .ok()??;
    flowd_spec::AuthSpecs::resolve(&spec.body)
        .ok()?
        .find(spec_name)
        .cloned()
}

/// Writes refreshed tokens into the connection's sealed params with a new etag, retrying a
/// concurrent write. A failure is logged, not returned: the tokens are valid either way, and
/// the session keeps them for its runs.
async fn save_tokens(
    store: &dyn ResourceStore,
    cipher: &Cipher,
    scope: &Scope,
    connection_id: &str,
    tokens: &RefreshedTokens,
) {
    for _attempt in 0..4 {
        let Ok(Some(stored)) = store
            .get_resource(scope, ResourceKind::Connection, connection_id)
            .await
        else {
            return;
        };
        let stored_params = stored_params(&stored.body);
        let Ok(mut plain) = open(cipher, scope, connection_id, &stored_params) else {
            return;
        };
        apply_tokens(&mut plain, tokens);
        let mut secret_names: Vec<String> = stored_params
            .iter()
            .filter(|(_, value)| sealed_token(value).is_some())
            .map(|(name, _)| name.clone())
            .collect();
        secret_names.extend(["accessToken".to_owned(), "refreshToken".to_owned()]);
        let sealed = seal(cipher, scope, connection_id, &plain, &secret_names);
        match replace_params(store, scope, connection_id, &stored, sealed).await {
            Ok(ReplaceOutcome::RevisionMismatch { .. }) => continue,
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
