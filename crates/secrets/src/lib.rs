//! flowd's encryption at rest of connection credentials (passwords, tokens, client secrets).
//!
//! **Threat model:** credentials are stored in the metadata database encrypted with a key that
//! lives *outside* the database, in `<data_dir>/secret.key` (mode 0600) or in the
//! `FLOWD_SECRET_KEY` environment variable. Someone who obtains the database file or one of its
//! backups, but not the key, learns nothing about the credentials and cannot move a ciphertext
//! to another row or field undetected (the associated data binds it to its place). This does
//! *not* protect against someone who can read the key as well (the flowd process, root, a backup
//! that includes the key file) — keep the key out of database backups.
//!
//! **API Boundary:** this crate knows keys, the token format and the key file; it knows nothing
//! of the store, HTTP or which fields of a connection are secret. Callers choose the associated
//! data, e.g. `connection/<org>/<sandbox>/<id>/auth.params.password`.
//!
//! **Architecture Invariant:** no error message, `Debug` output or log line of this crate
//! contains key material or plaintext; only key ids (a hash prefix of the key) are shown.

pub mod cipher;
pub mod error;
pub mod key;
pub mod sealed;

pub use cipher::{Cipher, KeyCheck, TOKEN_VERSION_PREFIX, is_encrypted_token, token_kid};
pub use error::SecretsError;
pub use key::{KEY_FILE_NAME, SECRET_KEY_ENV, SecretKey};
pub use secrecy::{ExposeSecret, SecretString};
