//! Tests of the token format: round trips, tampering, associated data, key ids and rotation.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::ExposeSecret as _;

use super::{Cipher, MIN_PAYLOAD_BASE64_LEN, is_encrypted_token};
use crate::error::SecretsError;
use crate::key::SecretKey;

const PASSWORD_FIELD: &str = "connection/org1/prod/0c6b/auth.params.password";

fn counting_key() -> SecretKey {
    SecretKey::from_bytes(std::array::from_fn(|index| index as u8))
}

fn other_key() -> SecretKey {
    SecretKey::from_bytes([0xA5; 32])
}

#[test]
fn round_trip() {
    let cipher = Cipher::new(counting_key());
    for plaintext in ["s3cr3t", "", "pässwörd 🔑 with spaces", &"x".repeat(10_000)] {
        let token = cipher.encrypt(plaintext, PASSWORD_FIELD);
        assert!(token.is_ascii());
        assert!(!token.contains(plaintext) || plaintext.is_empty());
        let decrypted = cipher.decrypt(&token, PASSWORD_FIELD).unwrap();
        assert_eq!(decrypted.expose_secret(), plaintext);
    }
}

#[test]
fn token_has_the_documented_shape() {
    let cipher = Cipher::new(counting_key());
    let token = cipher.encrypt("abc", PASSWORD_FIELD);
    let expected_prefix = format!("v1.{}.", cipher.current_kid());
    assert!(token.starts_with(&expected_prefix), "{token}");
    let payload = URL_SAFE_NO_PAD
        .decode(&token[expected_prefix.len()..])
        .unwrap();
    assert_eq!(payload.len(), 24 + 3 + 16, "nonce || ciphertext || tag");
    assert!(is_encrypted_token(&token));
}

#[test]
fn two_encryptions_of_the_same_plaintext_differ() {
    let cipher = Cipher::new(counting_key());
    let first = cipher.encrypt("same", PASSWORD_FIELD);
    let second = cipher.encrypt("same", PASSWORD_FIELD);
    assert_ne!(first, second);
    assert_ne!(first[12..44], second[12..44], "the nonces differ");
}

#[test]
fn wrong_associated_data_fails_authentication() {
    let cipher = Cipher::new(counting_key());
    let token = cipher.encrypt("s3cr3t", PASSWORD_FIELD);
    for moved_to in [
        "connection/org1/prod/0c6b/auth.params.clientSecret",
        "connection/org1/prod/ffff/auth.params.password",
        "connection/org2/prod/0c6b/auth.params.password",
        "",
    ] {
        let error = cipher.decrypt(&token, moved_to).unwrap_err();
        assert!(
            matches!(error, SecretsError::AuthenticationFailed),
            "{moved_to}: {error:?}"
        );
    }
}

#[test]
fn tampered_token_fails_authentication() {
    let cipher = Cipher::new(counting_key());
    let token = cipher.encrypt("s3cr3t", PASSWORD_FIELD);
    let (header, payload_base64) = token.split_at(12);
    let payload = URL_SAFE_NO_PAD.decode(payload_base64).unwrap();
    for flipped_byte in [0, 23, 24, payload.len() - 1] {
        let mut tampered_payload = payload.clone();
        tampered_payload[flipped_byte] ^= 0x01;
        let tampered = format!("{header}{}", URL_SAFE_NO_PAD.encode(&tampered_payload));
        let error = cipher.decrypt(&tampered, PASSWORD_FIELD).unwrap_err();
        assert!(
            matches!(error, SecretsError::AuthenticationFailed),
            "byte {flipped_byte}: {error:?}"
        );
    }
    let truncated = format!(
        "{header}{}",
        URL_SAFE_NO_PAD.encode(&payload[..payload.len() - 1])
    );
    assert!(matches!(
        cipher.decrypt(&truncated, PASSWORD_FIELD),
        Err(SecretsError::AuthenticationFailed)
    ));
}

#[test]
fn unknown_kid_fails_and_names_both_kids() {
    let token = Cipher::new(other_key()).encrypt("s3cr3t", PASSWORD_FIELD);
    let cipher = Cipher::new(counting_key());
    let error = cipher.decrypt(&token, PASSWORD_FIELD).unwrap_err();
    assert!(
        matches!(error, SecretsError::UnknownKeyId { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(other_key().kid()) && message.contains(cipher.current_kid()),
        "{message}"
    );
}

#[test]
fn kid_of_a_token_is_authenticated() {
    // Same key under a forged kid is refused as unknown; a kid that names another loaded key
    // fails authentication rather than decrypting under the wrong key.
    let cipher = Cipher::new(counting_key()).with_decryption_keys([other_key()]);
    let token = cipher.encrypt("s3cr3t", PASSWORD_FIELD);
    let relabelled = token.replacen(cipher.current_kid(), other_key().kid(), 1);
    assert!(matches!(
        cipher.decrypt(&relabelled, PASSWORD_FIELD),
        Err(SecretsError::AuthenticationFailed)
    ));
    let forged = token.replacen(cipher.current_kid(), "00000000", 1);
    assert!(matches!(
        cipher.decrypt(&forged, PASSWORD_FIELD),
        Err(SecretsError::UnknownKeyId { .. })
    ));
}

#[test]
fn older_keys_decrypt_but_the_current_key_encrypts() {
    let old_token = Cipher::new(other_key()).encrypt("old", PASSWORD_FIELD);
    let rotated = Cipher::new(counting_key()).with_decryption_keys([other_key()]);
    assert_eq!(
        rotated
            .decrypt(&old_token, PASSWORD_FIELD)
            .unwrap()
            .expose_secret(),
        "old"
    );
    let new_token = rotated.encrypt("new", PASSWORD_FIELD);
    assert!(new_token.starts_with(&format!("v1.{}.", counting_key().kid())));
    assert_eq!(
        rotated
            .decrypt(&new_token, PASSWORD_FIELD)
            .unwrap()
            .expose_secret(),
        "new"
    );
}

#[test]
fn malformed_tokens_are_reported_as_malformed() {
    let cipher = Cipher::new(counting_key());
    let kid = cipher.current_kid().to_owned();
    let valid_payload = "A".repeat(MIN_PAYLOAD_BASE64_LEN);
    for malformed in [
        "plaintext password".to_owned(),
        String::new(),
        "v2.0011aabb.AAAA".to_owned(),
        format!("v1.{kid}"),
        format!("v1.{}.{valid_payload}", kid.to_uppercase()),
        format!("v1.{}.{valid_payload}", &kid[..7]),
        format!("v1.{kid}.not base64!"),
        format!("v1.{kid}.{valid_payload}=="),
        format!("v1.{kid}.AAAA"),
    ] {
        let error = cipher.decrypt(&malformed, PASSWORD_FIELD).unwrap_err();
        assert!(
            matches!(error, SecretsError::MalformedToken { .. }),
            "{malformed:?}: {error:?}"
        );
    }
}

#[test]
fn is_encrypted_token_checks_the_shape_only() {
    let cipher = Cipher::new(counting_key());
    let kid = cipher.current_kid().to_owned();
    // No byte string encodes to a length of 4n+1 characters.
    const IMPOSSIBLE_BASE64_LEN: usize = 57;
    const { assert!(IMPOSSIBLE_BASE64_LEN >= MIN_PAYLOAD_BASE64_LEN && IMPOSSIBLE_BASE64_LEN % 4 == 1) };
    assert!(is_encrypted_token(&cipher.encrypt("", "")));
    assert!(is_encrypted_token(&cipher.encrypt("x", "")));
    assert!(is_encrypted_token(&format!(
        "v1.0011aabb.{}",
        "A".repeat(MIN_PAYLOAD_BASE64_LEN)
    )));
    for not_a_token in [
        "s3cr3t".to_owned(),
        "v1.".to_owned(),
        format!("v1.{kid}."),
        format!("v1.{kid}.AAAA"),
        format!("v1.{kid}.{}+", "A".repeat(MIN_PAYLOAD_BASE64_LEN)),
        format!("v1.{kid}.{}", "A".repeat(IMPOSSIBLE_BASE64_LEN)),
        format!("V1.{kid}.{}", "A".repeat(MIN_PAYLOAD_BASE64_LEN)),
    ] {
        assert!(!is_encrypted_token(&not_a_token), "{not_a_token:?}");
    }
}

#[test]
fn debug_of_cipher_prints_only_kids() {
    let cipher = Cipher::new(counting_key()).with_decryption_keys([other_key()]);
    let debug = format!("{cipher:?}");
    assert!(
        debug.contains(counting_key().kid()) && debug.contains(other_key().kid()),
        "{debug}"
    );
    assert!(
        !debug.contains("1, 2, 3") && !debug.contains("165"),
        "{debug}"
    );
    assert!(
        !debug.contains("000102") && !debug.contains("a5a5"),
        "{debug}"
    );
}

#[test]
fn errors_never_contain_the_plaintext() {
    let cipher = Cipher::new(counting_key());
    let token = cipher.encrypt("hunter2", PASSWORD_FIELD);
    let error = cipher.decrypt(&token, "elsewhere").unwrap_err();
    assert!(!format!("{error} {error:?}").contains("hunter2"));
}

#[test]
fn a_key_check_names_the_key_that_sealed_it() {
    let old = Cipher::new(counting_key());
    let check = old.key_check();
    assert_eq!(
        old.verify_key_check(&check).unwrap(),
        super::KeyCheck::Current
    );
    let rotating = Cipher::new(other_key()).with_decryption_keys([counting_key()]);
    assert_eq!(
        rotating.verify_key_check(&check).unwrap(),
        super::KeyCheck::Older {
            kid: counting_key().kid().to_owned()
        }
    );
    let wrong = Cipher::new(other_key());
    match wrong.verify_key_check(&check) {
        Err(SecretsError::UnknownKeyId { kid, .. }) => assert_eq!(kid, counting_key().kid()),
        other => panic!("expected the unknown key id, got {other:?}"),
    }
    // A check sealed for another place (a connection secret passed off as the check) fails.
    let secret = old.encrypt("flowd secret key check", PASSWORD_FIELD);
    assert!(matches!(
        old.verify_key_check(&secret),
        Err(SecretsError::AuthenticationFailed)
    ));
    assert_eq!(super::token_kid(&check), Some(counting_key().kid()));
    assert_eq!(rotating.kids(), [other_key().kid(), counting_key().kid()]);
}
