//! Issuing API credentials. A credential is an (API key, access token) pair
//! bound to one org; the store keeps only the token's SHA-256. A plain hash
//! suffices (no password KDF) because tokens are 256 random bits, not
//! human-chosen secrets.

use base64::Engine;
use flowd_store::{CredentialStore, NewCredential, StoreError};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What `flowd credentials create` prints, once: the token is not stored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCredential {
    pub api_key: String,
    pub access_token: String,
    pub ims_org_id: String,
}

impl std::fmt::Debug for IssuedCredential {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("IssuedCredential")
            .field("api_key", &self.api_key)
            .field("access_token", &"<redacted>")
            .field("ims_org_id", &self.ims_org_id)
            .finish()
    }
}

/// Lowercase hex SHA-256 of an access token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// Creates a credential for `org_id`, stores it, and returns its secrets.
pub async fn issue_credential(
    store: &dyn CredentialStore,
    org_id: &str,
) -> Result<IssuedCredential, StoreError> {
    let (credential, issued) = new_credential(org_id);
    store.insert_credential(&credential).await?;
    Ok(issued)
}

/// Issues the store's first credential for `org_id`, unless it has one already (another
/// process starting on the same empty store got there first): `None` then.
pub async fn issue_first_credential(
    store: &dyn CredentialStore,
    org_id: &str,
) -> Result<Option<IssuedCredential>, StoreError> {
    let (credential, issued) = new_credential(org_id);
    Ok(store
        .insert_first_credential(&credential)
        .await?
        .then_some(issued))
}

fn new_credential(org_id: &str) -> (NewCredential, IssuedCredential) {
    let access_token = format!(
        "flowd_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
    );
    let api_key = hex::encode(random_bytes::<16>());
    // Shaped like an IMS technical account id, as AEP's createdBy values are.
    let principal_id = format!("{}@AdobeID", hex::encode_upper(random_bytes::<12>()));
    let created_at = flowd_model::time::now_millis();
    let credential = NewCredential {
        id: principal_id,
        org_id: org_id.to_owned(),
        api_key: api_key.clone(),
        token_hash: token_hash(&access_token),
        created_at,
    };
    let issued = IssuedCredential {
        api_key,
        access_token,
        ims_org_id: org_id.to_owned(),
    };
    (credential, issued)
}
