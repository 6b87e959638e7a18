//! The one error type of the secrets crate.
//!
//! Threat model reminder: these messages end up in logs and HTTP error bodies, so they name the
//! variable, file or key id involved but never contain key bytes, the value of
//! `FLOWD_SECRET_KEY`, the contents of the key file, or any plaintext.

use std::path::PathBuf;

/// Everything that can go wrong loading a key or decrypting a token.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// `FLOWD_SECRET_KEY` is set but does not hold base64 of exactly 32 bytes.
    #[error(
        "environment variable FLOWD_SECRET_KEY is invalid: {reason} (expected the base64 encoding of exactly 32 bytes; its value is not shown)"
    )]
    InvalidEnvKey {
        /// What is wrong with the value, without the value itself.
        reason: String,
    },

    /// The key file exists but does not hold base64 of exactly 32 bytes.
    #[error(
        "key file {} is invalid: {reason} (expected one line with the base64 encoding of exactly 32 bytes)",
        path.display()
    )]
    InvalidKeyFile {
        /// The key file.
        path: PathBuf,
        /// What is wrong with its contents, without the contents.
        reason: String,
    },

    /// The key file can be read or written by its group or by others.
    #[error(
        "key file {} is accessible by group or others (mode {mode:04o}); refusing to use it: run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    InsecureKeyFilePermissions {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },

    /// Reading, creating or syncing the key file (or its directory) failed.
    #[error("could not {action} {}: {source}", path.display())]
    KeyFileIo {
        /// What was being done, e.g. "read key file".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The operating system's random number generator failed.
    #[error("could not generate a random key: {0}")]
    Random(String),

    /// The value is not a token of the form `v1.<kid>.<payload>`.
    #[error("malformed encrypted token: {reason}")]
    MalformedToken {
        /// What is wrong with the token's shape.
        reason: &'static str,
    },

    /// The token was encrypted with a key that is not loaded.
    #[error(
        "token was encrypted with key id {kid}, which is not loaded (current key id is {current_kid}); was the key file or FLOWD_SECRET_KEY replaced?"
    )]
    UnknownKeyId {
        /// The key id named by the token.
        kid: String,
        /// The key id new tokens are encrypted with.
        current_kid: String,
    },

    /// The key id matched but the ciphertext did not authenticate.
    #[error(
        "decryption failed: the token was tampered with, or it belongs to a different field or record (associated data mismatch)"
    )]
    AuthenticationFailed,

    /// The ciphertext authenticated but the plaintext is not UTF-8 (not written by this crate).
    #[error("decrypted value is not valid utf-8")]
    PlaintextNotUtf8,
}
