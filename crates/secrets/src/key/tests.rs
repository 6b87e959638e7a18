//! Tests of key parsing and of the key file (creation, reuse, permissions, env precedence).

use std::ffi::OsString;
use std::fs;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::ExposeSecret as _;

use super::{KEY_FILE_NAME, SecretKey, load_or_create_with_env};
use crate::error::SecretsError;

/// Bytes 0, 1, 2, … 31: easy to spot in any accidental printout.
fn counting_bytes() -> [u8; 32] {
    std::array::from_fn(|index| index as u8)
}

fn load_from_file_only(data_dir: &Path) -> Result<SecretKey, SecretsError> {
    load_or_create_with_env(data_dir, None)
}

#[cfg(unix)]
fn file_mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_file_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn kid_is_first_eight_hex_characters_of_sha256() {
    use sha2::Digest as _;
    let key = SecretKey::from_bytes(counting_bytes());
    let expected = hex::encode(sha2::Sha256::digest(counting_bytes()));
    assert_eq!(key.kid(), &expected[..8]);
}

#[test]
fn env_value_accepts_standard_and_url_safe_base64_with_or_without_padding() {
    let bytes: [u8; 32] =
        std::array::from_fn(|index| (index as u8).wrapping_mul(37).wrapping_add(250));
    let expected_kid = SecretKey::from_bytes(bytes).kid().to_owned();
    let standard = STANDARD.encode(bytes);
    let url_safe = URL_SAFE_NO_PAD.encode(bytes);
    assert!(standard.contains(['+', '/']) && url_safe.contains(['-', '_']));
    for text in [
        standard.clone(),
        standard.trim_end_matches('=').to_owned(),
        url_safe.clone(),
        format!("{url_safe}="),
        format!("  {standard}\n"),
    ] {
        let key =
            SecretKey::from_env_value(&text).unwrap_or_else(|error| panic!("{text:?}: {error}"));
        assert_eq!(key.kid(), expected_kid, "{text:?}");
    }
}

#[test]
fn env_value_of_wrong_length_is_a_clear_error_without_the_value() {
    let sixteen_bytes = STANDARD.encode([7u8; 16]);
    let error = SecretKey::from_env_value(&sixteen_bytes).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, SecretsError::InvalidEnvKey { .. }));
    assert!(message.contains("FLOWD_SECRET_KEY"), "{message}");
    assert!(message.contains("16 bytes, not 32"), "{message}");
    assert!(!message.contains(&sixteen_bytes), "{message}");
    assert!(!message.contains("BwcH"), "{message}");
}

#[test]
fn env_value_that_is_not_base64_is_a_clear_error_without_the_value() {
    let value = "hunter2-is-my-password!!";
    let message = SecretKey::from_env_value(value).unwrap_err().to_string();
    assert!(
        message.contains("FLOWD_SECRET_KEY") && message.contains("not valid base64"),
        "{message}"
    );
    assert!(
        !message.contains("hunter2") && !message.contains('!'),
        "{message}"
    );
}

#[test]
fn empty_env_value_is_an_error() {
    let message = SecretKey::from_env_value("  ").unwrap_err().to_string();
    assert!(
        message.contains("FLOWD_SECRET_KEY") && message.contains("empty"),
        "{message}"
    );
}

#[test]
fn debug_of_key_prints_only_the_kid() {
    let key = SecretKey::from_bytes(counting_bytes());
    let debug = format!("{key:?} {key:#?}");
    assert!(debug.contains(key.kid()), "{debug}");
    assert!(!debug.contains("1, 2, 3"), "{debug}");
    assert!(!debug.contains("000102"), "{debug}");
    assert!(
        !debug.contains(&STANDARD.encode(counting_bytes())[..8]),
        "{debug}"
    );
}

#[test]
fn to_base64_round_trips_through_from_env_value() {
    let key = SecretKey::from_bytes(counting_bytes());
    let reparsed = SecretKey::from_env_value(key.to_base64().expose_secret()).unwrap();
    assert_eq!(reparsed.kid(), key.kid());
    assert_eq!(reparsed.expose_bytes(), &counting_bytes());
}

#[test]
fn generated_keys_differ() {
    assert_ne!(
        SecretKey::generate().unwrap().kid(),
        SecretKey::generate().unwrap().kid()
    );
}

#[test]
fn key_file_is_created_private_and_reused_on_second_load() {
    let data_dir = tempfile::tempdir().unwrap();
    let first = load_from_file_only(data_dir.path()).unwrap();
    let key_path = data_dir.path().join(KEY_FILE_NAME);
    #[cfg(unix)]
    assert_eq!(file_mode(&key_path), 0o600);
    let contents = fs::read_to_string(&key_path).unwrap();
    assert!(
        contents.ends_with('\n') && contents.trim().len() == 44,
        "one line of padded base64"
    );

    let second = load_from_file_only(data_dir.path()).unwrap();
    assert_eq!(second.kid(), first.kid());
    assert_eq!(second.expose_bytes(), first.expose_bytes());

    let leftovers: Vec<_> = fs::read_dir(data_dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        [OsString::from(KEY_FILE_NAME)],
        "no temporary file left behind"
    );
}

#[test]
fn missing_data_directory_is_created() {
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("nested").join("data");
    let key = load_from_file_only(&data_dir).unwrap();
    assert_eq!(load_from_file_only(&data_dir).unwrap().kid(), key.kid());
}

#[test]
fn existing_key_file_written_by_hand_is_used() {
    let data_dir = tempfile::tempdir().unwrap();
    let key_path = data_dir.path().join(KEY_FILE_NAME);
    fs::write(
        &key_path,
        format!("{}\n", URL_SAFE_NO_PAD.encode(counting_bytes())),
    )
    .unwrap();
    #[cfg(unix)]
    set_file_mode(&key_path, 0o400);
    let key = load_from_file_only(data_dir.path()).unwrap();
    assert_eq!(key.kid(), SecretKey::from_bytes(counting_bytes()).kid());
}

#[cfg(unix)]
#[test]
fn group_readable_key_file_is_refused_with_chmod_advice() {
    let data_dir = tempfile::tempdir().unwrap();
    load_from_file_only(data_dir.path()).unwrap();
    let key_path = data_dir.path().join(KEY_FILE_NAME);
    let contents_before = fs::read(&key_path).unwrap();
    for insecure_mode in [0o640, 0o604, 0o660, 0o644] {
        set_file_mode(&key_path, insecure_mode);
        let error = load_from_file_only(data_dir.path()).unwrap_err();
        assert!(
            matches!(error, SecretsError::InsecureKeyFilePermissions { .. }),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains("chmod 600"), "{message}");
        assert!(
            message.contains(&format!("{insecure_mode:04o}")),
            "{message}"
        );
    }
    assert_eq!(
        fs::read(&key_path).unwrap(),
        contents_before,
        "refused key file is left untouched"
    );
}

#[test]
fn invalid_key_file_is_an_error_without_its_contents() {
    let data_dir = tempfile::tempdir().unwrap();
    let key_path = data_dir.path().join(KEY_FILE_NAME);
    let short_key = STANDARD.encode([9u8; 31]);
    fs::write(&key_path, &short_key).unwrap();
    #[cfg(unix)]
    set_file_mode(&key_path, 0o600);
    let error = load_from_file_only(data_dir.path()).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, SecretsError::InvalidKeyFile { .. }),
        "{error:?}"
    );
    assert!(
        message.contains("secret.key") && message.contains("31 bytes, not 32"),
        "{message}"
    );
    assert!(!message.contains(&short_key), "{message}");
}

#[test]
fn env_value_wins_over_key_file_and_creates_no_file() {
    let data_dir = tempfile::tempdir().unwrap();
    let env_key = SecretKey::from_bytes(counting_bytes());
    let env_value = OsString::from(STANDARD.encode(counting_bytes()));

    let loaded = load_or_create_with_env(data_dir.path(), Some(env_value.clone())).unwrap();
    assert_eq!(loaded.kid(), env_key.kid());
    assert!(
        !data_dir.path().join(KEY_FILE_NAME).exists(),
        "no key file when the env var is set"
    );

    let file_key = load_from_file_only(data_dir.path()).unwrap();
    assert_ne!(file_key.kid(), env_key.kid());
    let loaded = load_or_create_with_env(data_dir.path(), Some(env_value)).unwrap();
    assert_eq!(
        loaded.kid(),
        env_key.kid(),
        "env var takes precedence over an existing key file"
    );
}

#[test]
fn invalid_env_value_is_an_error_even_when_a_key_file_exists() {
    let data_dir = tempfile::tempdir().unwrap();
    load_from_file_only(data_dir.path()).unwrap();
    let error =
        load_or_create_with_env(data_dir.path(), Some(OsString::from("c2hvcnQ="))).unwrap_err();
    assert!(
        matches!(error, SecretsError::InvalidEnvKey { .. }),
        "{error:?}"
    );
    assert!(!error.to_string().contains("c2hvcnQ"));
}
