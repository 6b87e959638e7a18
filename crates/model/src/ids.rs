//! Resource ids: Flow Service resources are UUIDs, stored lowercase and hyphenated; Catalog
//! datasets are 24 lowercase hexadecimal characters. References are stored in the same
//! canonical form as the ids they name, so a reference always finds its row whatever letter
//! case a client used.

use rand::RngCore;

/// Length of a dataset id: 12 random bytes in lowercase hex, as AEP's.
pub const DATASET_ID_LENGTH: usize = 24;

/// A new Flow Service resource id (a random UUID).
pub fn new_resource_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The canonical (lowercase, hyphenated) form of a UUID, or `None` when `text` is not one.
pub fn canonical_uuid(text: &str) -> Option<String> {
    uuid::Uuid::try_parse(text.trim())
        .ok()
        .map(|uuid| uuid.hyphenated().to_string())
}

/// A new dataset id.
pub fn new_dataset_id() -> String {
    let mut bytes = [0u8; DATASET_ID_LENGTH / 2];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The canonical (lowercase) form of a dataset id, or `None` when `text` is not 24
/// hexadecimal characters.
pub fn canonical_dataset_id(text: &str) -> Option<String> {
    (text.len() == DATASET_ID_LENGTH && text.bytes().all(|byte| byte.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_one_canonical_form() {
        let id = new_resource_id();
        assert_eq!(
            canonical_uuid(&id.to_uppercase()).as_deref(),
            Some(id.as_str())
        );
        assert_eq!(canonical_uuid("not-a-uuid"), None);
        let dataset_id = new_dataset_id();
        assert_eq!(dataset_id.len(), DATASET_ID_LENGTH);
        assert_eq!(
            canonical_dataset_id(&dataset_id.to_uppercase()).as_deref(),
            Some(dataset_id.as_str())
        );
        assert_eq!(canonical_dataset_id("abc"), None);
        assert_eq!(canonical_dataset_id(&"g".repeat(24)), None);
    }
}
