//! [`AuthSessions`]: the OAuth sessions of a process, one per connection, so every run and
//! preview of a connection refreshes through the same session, one refresh at a time. A
//! rotating refresh token is valid once: two sessions refreshing with it would leave one of
//! them with `invalid_grant`.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use serde_json::{Map, Value};

use super::{AuthMethod, AuthSession};

/// Params a refresh changes; the others must be equal for a session to serve a connection.
const TOKEN_PARAMS: [&str; 3] = ["accessToken", "refreshToken", "expirationDate"];

/// The live OAuth sessions of a process, by connection. Cheap to clone; clones share.
#[derive(Clone, Default)]
pub struct AuthSessions {
    /// One slot per connection; a slot is locked only by shares of its own connection, so a
    /// session busy refreshing holds back no other connection.
    slots: Arc<std::sync::Mutex<HashMap<String, Slot>>>,
}

type Slot = Arc<tokio::sync::Mutex<Weak<AuthSession>>>;

impl std::fmt::Debug for AuthSessions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AuthSessions")
            .finish_non_exhaustive()
    }
}

impl AuthSessions {
    /// The session to use for the connection `key` (unique per tenant and connection), given
    /// `fresh`, one just prepared from its stored credentials: the live session of that
    /// connection when it can serve them (same params but the tokens, tokens it held, no
    /// failed refresh), else `fresh`, which becomes the connection's session. Sessions
    /// without OAuth are returned as they are.
    pub async fn share(&self, key: &str, fresh: Arc<AuthSession>) -> Arc<AuthSession> {
        if !matches!(fresh.auth.method, AuthMethod::OAuth2(_)) {
            return fresh;
        }
        let slot = {
            let mut slots = self.slots.lock().expect("session slots lock");
            slots.retain(|_, slot| Arc::strong_count(slot) > 1 || slot_is_live(slot));
            slots.entry(key.to_owned()).or_default().clone()
        };
        let mut live = slot.lock().await;
        if let Some(session) = live.upgrade()
            && session.serves(&fresh.auth.params).await
        {
            return session;
        }
        *live = Arc::downgrade(&fresh);
        fresh
    }
}

/// Whether a slot not being shared right now still holds a live session.
fn slot_is_live(slot: &Slot) -> bool {
    slot.try_lock()
        .map(|session| session.strong_count() > 0)
        .unwrap_or(true)
}

impl AuthSession {
    /// Whether this session may stand for a connection whose stored params are `params`.
    async fn serves(&self, params: &Map<String, Value>) -> bool {
        let AuthMethod::OAuth2(oauth) = &self.auth.method else {
            return false;
        };
        let without_tokens = |params: &Map<String, Value>| -> Map<String, Value> {
            params
                .iter()
                .filter(|(name, _)| !TOKEN_PARAMS.contains(&name.as_str()))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect()
        };
        without_tokens(&self.auth.params) == without_tokens(params)
            && oauth
                .serves_tokens(
                    params.get("accessToken").and_then(Value::as_str),
                    params.get("refreshToken").and_then(Value::as_str),
                )
                .await
    }
}
