//! The encryption key: its type, its key id, and where it is loaded from.
//!
//! **Threat model:** the key protects credentials in the database file and its backups from
//! someone who has those but not the key, so the key must live outside the database: in the
//! `FLOWD_SECRET_KEY` environment variable (for containers and secret managers) or in
//! `<data_dir>/secret.key`, a one-line base64 file created with mode 0600 on first start. A key
//! file that its group or others may access is refused rather than silently used: a readable key
//! makes the encryption pointless. Key bytes are zeroized on drop and never appear in `Debug`
//! output or error messages; only the key id does, which is the first 8 hex characters of the
//! SHA-256 of the key (it identifies a key without revealing it).

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use rand::TryRngCore as _;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::SecretsError;

/// The environment variable that, when set, holds the key (base64 of 32 bytes) and takes
/// precedence over the key file.
pub const SECRET_KEY_ENV: &str = "FLOWD_SECRET_KEY";

/// The key file's name inside the data directory.
pub const KEY_FILE_NAME: &str = "secret.key";

/// Length of a key in bytes (XChaCha20-Poly1305 takes a 256-bit key).
pub const KEY_LEN: usize = 32;

/// Length of a key id: hex characters of the key's SHA-256.
pub(crate) const KEY_ID_LEN: usize = 8;

/// A key file is one line of base64; anything much longer is not a key file.
const MAX_KEY_FILE_LEN: usize = 1024;

/// Base64 with either padding style, in the standard and the URL-safe alphabet: people paste keys
/// from `openssl rand -base64 32`, `head -c32 /dev/urandom | base64` or URL-safe generators.
const STANDARD_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A 256-bit encryption key with its key id. The bytes are zeroized on drop and never printed.
pub struct SecretKey {
    bytes: SecretBox<[u8; KEY_LEN]>,
    kid: String,
}

impl SecretKey {
    /// Wraps raw key bytes (the argument's copy is zeroized).
    pub fn from_bytes(mut bytes: [u8; KEY_LEN]) -> SecretKey {
        let kid = key_id(&bytes);
        let boxed =
            SecretBox::init_with_mut(|slot: &mut [u8; KEY_LEN]| slot.copy_from_slice(&bytes));
        bytes.zeroize();
        SecretKey { bytes: boxed, kid }
    }

    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Result<SecretKey, SecretsError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng
            .try_fill_bytes(&mut *bytes)
            .map_err(|error| SecretsError::Random(error.to_string()))?;
        Ok(SecretKey::from_bytes(*bytes))
    }

    /// Parses the value of `FLOWD_SECRET_KEY`: base64 (standard or URL-safe, padded or not,
    /// surrounding whitespace ignored) of exactly 32 bytes. Errors never include the value.
    pub fn from_env_value(value: &str) -> Result<SecretKey, SecretsError> {
        decode_key_text(value).map_err(|reason| SecretsError::InvalidEnvKey { reason })
    }

    /// The key to encrypt with: from `FLOWD_SECRET_KEY` when that variable is set (the key file
    /// is then neither read nor created), otherwise from `<data_dir>/secret.key`, which is
    /// created with mode 0600 from 32 random bytes when missing.
    ///
    /// On unix, an existing key file whose group or others have any permission is refused.
    pub fn load_or_create(data_dir: &Path) -> Result<SecretKey, SecretsError> {
        load_or_create_with_env(data_dir, std::env::var_os(SECRET_KEY_ENV))
    }

    /// The key in the key file at `path` (one line of base64, owner-only permissions on unix),
    /// which must exist.
    pub fn from_file(path: &Path) -> Result<SecretKey, SecretsError> {
        read_key_file(path)?.ok_or_else(|| SecretsError::KeyFileIo {
            action: "read key file",
            path: path.to_owned(),
            source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
        })
    }

    /// The key id: the first 8 lowercase hex characters of the SHA-256 of the key. Written in
    /// every token so that decryption can pick the right key after a rotation.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The key as standard padded base64, e.g. to print a generated key for `FLOWD_SECRET_KEY`.
    pub fn to_base64(&self) -> SecretString {
        let mut text = String::with_capacity(KEY_LEN.div_ceil(3) * 4);
        STANDARD.encode_string(self.expose_bytes(), &mut text);
        SecretString::from(text)
    }

    pub(crate) fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        self.bytes.expose_secret()
    }
}

impl Clone for SecretKey {
    fn clone(&self) -> SecretKey {
        SecretKey::from_bytes(*self.expose_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SecretKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn key_id(bytes: &[u8; KEY_LEN]) -> String {
    let digest = Sha256::digest(bytes);
    hex::encode(&digest[..KEY_ID_LEN / 2])
}

/// Decodes base64 key text; the error is a reason that never quotes the text (base64's own
/// errors name the offending byte, so they are not passed on).
fn decode_key_text(text: &str) -> Result<SecretKey, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("it is empty".to_owned());
    }
    let decoded = STANDARD_ANY_PADDING
        .decode(text)
        .or_else(|_| URL_SAFE_ANY_PADDING.decode(text))
        .map(Zeroizing::new)
        .map_err(|_| "it is not valid base64".to_owned())?;
    let bytes: [u8; KEY_LEN] = decoded
        .as_slice()
        .try_into()
        .map_err(|_| format!("it decodes to {} bytes, not {KEY_LEN}", decoded.len()))?;
    Ok(SecretKey::from_bytes(bytes))
}

/// [`SecretKey::load_or_create`] with the environment variable's value passed in, so that tests
/// need not mutate the process environment.
pub(crate) fn load_or_create_with_env(
    data_dir: &Path,
    env_value: Option<OsString>,
) -> Result<SecretKey, SecretsError> {
    match env_value {
        Some(env_value) => {
            let env_value = Zeroizing::new(env_value.into_string().map_err(|_| {
                SecretsError::InvalidEnvKey {
                    reason: "it is not valid unicode".to_owned(),
                }
            })?);
            SecretKey::from_env_value(&env_value)
        }
        None => load_or_create_key_file(data_dir),
    }
}

fn load_or_create_key_file(data_dir: &Path) -> Result<SecretKey, SecretsError> {
    let key_path = data_dir.join(KEY_FILE_NAME);
    if let Some(key) = read_key_file(&key_path)? {
        return Ok(key);
    }
    fs::create_dir_all(data_dir).map_err(|source| SecretsError::KeyFileIo {
        action: "create data directory",
        path: data_dir.to_owned(),
        source,
    })?;
    let key = SecretKey::generate()?;
    let mut key_text = Zeroizing::new(String::with_capacity(64));
    STANDARD.encode_string(key.expose_bytes(), &mut key_text);
    key_text.push('\n');

    // Write a complete temporary file, then hard-link it into place: the link fails if the key
    // file already exists, so two processes starting together on a fresh data directory never
    // overwrite each other's key, and neither can read a half-written file.
    let temporary_path = data_dir.join(format!(
        ".{KEY_FILE_NAME}.{}.tmp",
        hex::encode(rand::random::<[u8; 8]>())
    ));
    let linked = write_new_private_file(&temporary_path, key_text.as_bytes())
        .and_then(|()| fs::hard_link(&temporary_path, &key_path));
    let _ = fs::remove_file(&temporary_path);
    match linked {
        Ok(()) => {
            sync_directory(data_dir)?;
            Ok(key)
        }
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            // Another process created the key file first: use theirs.
            read_key_file(&key_path)?.ok_or_else(|| SecretsError::KeyFileIo {
                action: "read key file",
                path: key_path.clone(),
                source: io::Error::new(io::ErrorKind::NotFound, "key file vanished after creation"),
            })
        }
        Err(source) => Err(SecretsError::KeyFileIo {
            action: "create key file",
            path: key_path,
            source,
        }),
    }
}

/// Reads an existing key file; `None` when there is none.
fn read_key_file(key_path: &Path) -> Result<Option<SecretKey>, SecretsError> {
    let io_error = |source| SecretsError::KeyFileIo {
        action: "read key file",
        path: key_path.to_owned(),
        source,
    };
    let invalid = |reason: String| SecretsError::InvalidKeyFile {
        path: key_path.to_owned(),
        reason,
    };
    let file = match File::open(key_path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(error)),
    };
    let metadata = file.metadata().map_err(io_error)?;
    if !metadata.is_file() {
        return Err(invalid("it is not a regular file".to_owned()));
    }
    check_private_permissions(key_path, &metadata)?;

    // Read into a buffer that never reallocates, so no unzeroized copy of the key is left behind.
    let mut contents = Zeroizing::new(Vec::with_capacity(2 * MAX_KEY_FILE_LEN));
    file.take(MAX_KEY_FILE_LEN as u64 + 1)
        .read_to_end(&mut contents)
        .map_err(io_error)?;
    if contents.len() > MAX_KEY_FILE_LEN {
        return Err(invalid(format!(
            "it is longer than {MAX_KEY_FILE_LEN} bytes"
        )));
    }
    let text = std::str::from_utf8(&contents).map_err(|_| invalid("it is not text".to_owned()))?;
    decode_key_text(text).map(Some).map_err(invalid)
}

#[cfg(unix)]
fn check_private_permissions(key_path: &Path, metadata: &fs::Metadata) -> Result<(), SecretsError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretsError::InsecureKeyFilePermissions {
            path: key_path.to_owned(),
            mode,
        });
    }
    Ok(())
}

/// Outside unix, access is governed by ACLs that this crate does not inspect.
#[cfg(not(unix))]
fn check_private_permissions(
    _key_path: &Path,
    _metadata: &fs::Metadata,
) -> Result<(), SecretsError> {
    Ok(())
}

/// Creates `path` (failing if it exists) readable and writable by its owner only, writes
/// `contents` and syncs it to disk.
fn write_new_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Makes a new directory entry durable (unix); elsewhere directories cannot be opened to sync.
fn sync_directory(directory: &Path) -> Result<(), SecretsError> {
    #[cfg(unix)]
    {
        File::open(directory)
            .and_then(|directory_file| directory_file.sync_all())
            .map_err(|source| SecretsError::KeyFileIo {
                action: "sync directory",
                path: directory.to_owned(),
                source,
            })?;
    }
    #[cfg(not(unix))]
    let _ = directory;
    Ok(())
}

#[cfg(test)]
mod tests;
