//! Encrypting and decrypting credential values as self-describing ASCII tokens.
//!
//! **Threat model:** a token stored in the database reveals nothing about its plaintext to
//! someone without the key (the key lives outside the database), and any change to it — or
//! moving it to another row or field — is detected on decryption, because the caller's
//! associated data (e.g. `connection/<org>/<sandbox>/<id>/auth.params.password`) is
//! authenticated along with it. Token lengths do reveal plaintext lengths.
//!
//! **Token format (v1):** `v1.<kid>.<payload>` where `<kid>` is the 8 lowercase hex characters
//! of the key id and `<payload>` is unpadded base64url of `nonce (24 bytes) || ciphertext || tag
//! (16 bytes)`, sealed with XChaCha20-Poly1305 under a fresh random nonce. The associated data
//! given to the AEAD is the token's header `v1.<kid>.` followed by the caller's associated data,
//! so the version and key id are authenticated too.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::error::SecretsError;
use crate::key::{KEY_ID_LEN, SecretKey};

/// What every token starts with; the version of the token format.
pub const TOKEN_VERSION_PREFIX: &str = "v1.";

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// Unpadded base64 of the shortest payload (nonce and tag around an empty plaintext).
const MIN_PAYLOAD_BASE64_LEN: usize = ((NONCE_LEN + TAG_LEN) * 4).div_ceil(3);

/// Encrypts with one current key; decrypts with the current key or any older key it was given.
#[derive(Clone)]
pub struct Cipher {
    current_key: SecretKey,
    decryption_only_keys: Vec<SecretKey>,
}

impl Cipher {
    /// A cipher that encrypts and decrypts with `current_key`.
    pub fn new(current_key: SecretKey) -> Cipher {
        Cipher {
            current_key,
            decryption_only_keys: Vec::new(),
        }
    }

    /// Also accepts tokens encrypted with these older keys (for key rotation); new tokens are
    /// still encrypted with the current key.
    pub fn with_decryption_keys(
        mut self,
        older_keys: impl IntoIterator<Item = SecretKey>,
    ) -> Cipher {
        self.decryption_only_keys.extend(older_keys);
        self
    }

    /// The key id that new tokens carry.
    pub fn current_kid(&self) -> &str {
        self.current_key.kid()
    }

    /// Encrypts `plaintext` bound to `associated_data` (the place the token will be stored),
    /// returning a `v1.<kid>.<payload>` token. Each call uses a fresh random nonce, so two
    /// encryptions of the same plaintext differ.
    pub fn encrypt(&self, plaintext: &str, associated_data: &str) -> String {
        let kid = self.current_key.kid();
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aead = aead_for(&self.current_key);
        let ciphertext = aead
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &bound_associated_data(kid, associated_data),
                },
            )
            // XChaCha20-Poly1305 only refuses plaintexts of about 256 GiB and more, far beyond
            // any credential (a `&str` that large is not held in memory by a caller here).
            .expect("XChaCha20-Poly1305 encryption cannot fail for a credential-sized plaintext");
        let mut payload = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&ciphertext);
        format!(
            "{TOKEN_VERSION_PREFIX}{kid}.{}",
            URL_SAFE_NO_PAD.encode(&payload)
        )
    }

    /// Decrypts a token made by [`Cipher::encrypt`] with the same `associated_data`.
    ///
    /// Fails with [`SecretsError::MalformedToken`] when the value is not a token,
    /// [`SecretsError::UnknownKeyId`] when no loaded key has the token's key id, and
    /// [`SecretsError::AuthenticationFailed`] when the token was altered or the associated data
    /// differs (the token was moved to another row or field).
    pub fn decrypt(
        &self,
        token: &str,
        associated_data: &str,
    ) -> Result<SecretString, SecretsError> {
        let (kid, payload_base64) = split_token(token)?;
        let payload =
            URL_SAFE_NO_PAD
                .decode(payload_base64)
                .map_err(|_| SecretsError::MalformedToken {
                    reason: "payload is not unpadded base64url",
                })?;
        if payload.len() < NONCE_LEN + TAG_LEN {
            return Err(SecretsError::MalformedToken {
                reason: "payload is too short",
            });
        }
        let (nonce, ciphertext) = payload.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| SecretsError::MalformedToken {
            reason: "payload is too short",
        })?;
        let aad = bound_associated_data(kid, associated_data);

        let mut candidate_keys = std::iter::once(&self.current_key)
            .chain(&self.decryption_only_keys)
            .filter(|key| key.kid() == kid)
            .peekable();
        if candidate_keys.peek().is_none() {
            return Err(SecretsError::UnknownKeyId {
                kid: kid.to_owned(),
                current_kid: self.current_kid().to_owned(),
            });
        }
        // Several keys share a key id only by a 1-in-2^32 accident; trying each keeps that harmless.
        let plaintext = candidate_keys
            .find_map(|key| {
                aead_for(key)
                    .decrypt(
                        &nonce,
                        Payload {
                            msg: ciphertext,
                            aad: &aad,
                        },
                    )
                    .ok()
            })
            .map(Zeroizing::new)
            .ok_or(SecretsError::AuthenticationFailed)?;
        let plaintext =
            std::str::from_utf8(&plaintext).map_err(|_| SecretsError::PlaintextNotUtf8)?;
        // Copy into an exactly-sized String so that `SecretString::from` does not reallocate
        // (which would leave an unzeroized copy behind); the decrypted buffer is zeroized on drop.
        let mut exact = String::with_capacity(plaintext.len());
        exact.push_str(plaintext);
        Ok(SecretString::from(exact))
    }
}

/// What the key check seals, and where (its associated data).
const KEY_CHECK_PLAINTEXT: &str = "flowd secret key check";
const KEY_CHECK_PLACE: &str = "flowd/store/secret-key-check";

/// How a key check relates to a cipher's keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// Sealed with the current key.
    Current,
    /// Sealed with one of the older, decryption-only keys (a rotation is under way).
    Older { kid: String },
}

impl Cipher {
    /// A fresh key check sealed with the current key: stored with the secrets, it lets a
    /// process tell at start-up whether its keys can open them.
    pub fn key_check(&self) -> String {
        self.encrypt(KEY_CHECK_PLAINTEXT, KEY_CHECK_PLACE)
    }

    /// Which of this cipher's keys sealed `check`; an error when none did
    /// ([`SecretsError::UnknownKeyId`] names the key id that did) or the check was altered.
    pub fn verify_key_check(&self, check: &str) -> Result<KeyCheck, SecretsError> {
        let opened = self.decrypt(check, KEY_CHECK_PLACE)?;
        if secrecy::ExposeSecret::expose_secret(&opened) != KEY_CHECK_PLAINTEXT {
            return Err(SecretsError::AuthenticationFailed);
        }
        let (kid, _) = split_token(check)?;
        Ok(if kid == self.current_kid() {
            KeyCheck::Current
        } else {
            KeyCheck::Older {
                kid: kid.to_owned(),
            }
        })
    }

    /// The key ids this cipher can decrypt, the current one first.
    pub fn kids(&self) -> Vec<&str> {
        std::iter::once(&self.current_key)
            .chain(&self.decryption_only_keys)
            .map(SecretKey::kid)
            .collect()
    }
}

/// The key id a token names, if it is a token.
pub fn token_kid(token: &str) -> Option<&str> {
    split_token(token).ok().map(|(kid, _)| kid)
}

impl fmt::Debug for Cipher {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decryption_only_kids: Vec<&str> = self
            .decryption_only_keys
            .iter()
            .map(SecretKey::kid)
            .collect();
        formatter
            .debug_struct("Cipher")
            .field("current_kid", &self.current_kid())
            .field("decryption_only_kids", &decryption_only_kids)
            .finish()
    }
}

/// Whether `value` has the shape of a token (`v1.<8 hex>.<base64url payload>`). Cheap; says
/// nothing about whether it decrypts. Lets callers tell encrypted values from plaintext ones,
/// e.g. when migrating rows written before encryption was enabled.
pub fn is_encrypted_token(value: &str) -> bool {
    let Ok((_kid, payload_base64)) = split_token(value) else {
        return false;
    };
    payload_base64.len() >= MIN_PAYLOAD_BASE64_LEN
        && payload_base64.len() % 4 != 1
        && payload_base64
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// Splits a token into its key id and base64 payload, checking the version and key id shape.
fn split_token(token: &str) -> Result<(&str, &str), SecretsError> {
    let rest = token
        .strip_prefix(TOKEN_VERSION_PREFIX)
        .ok_or(SecretsError::MalformedToken {
            reason: "it does not start with v1.",
        })?;
    let (kid, payload_base64) = rest.split_once('.').ok_or(SecretsError::MalformedToken {
        reason: "it has no key id",
    })?;
    let kid_is_well_formed = kid.len() == KEY_ID_LEN
        && kid
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    if !kid_is_well_formed {
        return Err(SecretsError::MalformedToken {
            reason: "key id is not 8 lowercase hex characters",
        });
    }
    Ok((kid, payload_base64))
}

/// The AEAD's associated data: the token header, then the caller's associated data. The header
/// has a fixed length, so the concatenation is unambiguous.
fn bound_associated_data(kid: &str, associated_data: &str) -> Vec<u8> {
    let mut bound =
        Vec::with_capacity(TOKEN_VERSION_PREFIX.len() + kid.len() + 1 + associated_data.len());
    bound.extend_from_slice(TOKEN_VERSION_PREFIX.as_bytes());
    bound.extend_from_slice(kid.as_bytes());
    bound.push(b'.');
    bound.extend_from_slice(associated_data.as_bytes());
    bound
}

fn aead_for(key: &SecretKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.expose_bytes().into())
}

#[cfg(test)]
mod tests;
