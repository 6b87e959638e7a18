//! Sealed members of a JSON object: the values of the members a caller
//! names are replaced by `{"flowdEncrypted": "<token>"}`, each bound by its
//! associated data to `<place>.<member name>`. The caller decides which
//! members are secret and what the place is; this module only seals, opens
//! and masks.

use serde_json::{Map, Value, json};

use crate::{Cipher, ExposeSecret, SecretsError};

/// What every sealed value looks like in a response.
pub const MASK: &str = "********";

/// The key of the marker object holding a token.
pub const SEALED_MARKER: &str = "flowdEncrypted";

fn associated_data(place: &str, name: &str) -> String {
    format!("{place}.{name}")
}

/// The token of a sealed value, if `value` is one.
pub fn sealed_token(value: &Value) -> Option<&str> {
    value.as_object()?.get(SEALED_MARKER)?.as_str()
}

/// `plain` with the string members named in `secret_names` sealed.
pub fn seal_members(
    cipher: &Cipher,
    place: &str,
    plain: &Map<String, Value>,
    secret_names: &[String],
) -> Map<String, Value> {
    plain
        .iter()
        .map(|(name, value)| {
            let sealed = match value {
                Value::String(text) if secret_names.contains(name) => {
                    json!({ SEALED_MARKER: cipher.encrypt(text, &associated_data(place, name)) })
                }
                other => other.clone(),
            };
            (name.clone(), sealed)
        })
        .collect()
}

/// `stored` with every sealed member opened.
pub fn open_members(
    cipher: &Cipher,
    place: &str,
    stored: &Map<String, Value>,
) -> Result<Map<String, Value>, SecretsError> {
    stored
        .iter()
        .map(|(name, value)| {
            let plain = match sealed_token(value) {
                Some(token) => Value::String(
                    cipher
                        .decrypt(token, &associated_data(place, name))?
                        .expose_secret()
                        .to_owned(),
                ),
                None => value.clone(),
            };
            Ok((name.clone(), plain))
        })
        .collect()
}

/// `stored` with every sealed member shown as [`MASK`].
pub fn masked_members(stored: &Map<String, Value>) -> Map<String, Value> {
    stored
        .iter()
        .map(|(name, value)| {
            let shown = if sealed_token(value).is_some() {
                Value::String(MASK.to_owned())
            } else {
                value.clone()
            };
            (name.clone(), shown)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    #[test]
    fn sealed_members_open_only_in_their_place_and_show_masked() {
        let cipher = Cipher::new(SecretKey::from_bytes([3; 32]));
        let plain = json!({"username": "anna", "password": "s3cret-value", "port": 8080});
        let plain = plain.as_object().unwrap();
        let sealed = seal_members(
            &cipher,
            "connection/o/s/1/auth.params",
            plain,
            &["password".to_owned()],
        );
        assert_eq!(sealed["username"], "anna");
        assert!(sealed_token(&sealed["password"]).is_some());
        assert!(
            !Value::Object(sealed.clone())
                .to_string()
                .contains("s3cret-value")
        );
        assert_eq!(
            &open_members(&cipher, "connection/o/s/1/auth.params", &sealed).unwrap(),
            plain
        );
        assert!(
            open_members(&cipher, "connection/o/s/2/auth.params", &sealed).is_err(),
            "moved to another place"
        );
        assert_eq!(masked_members(&sealed)["password"], MASK);
    }
}
