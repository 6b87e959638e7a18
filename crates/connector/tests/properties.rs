//! Property tests of the invariants the fuzz targets check: a redacted snippet never shows a
//! secret, not even four characters of it, wherever the secret sits around the cut; and the
//! header rules validation applies never accept what the HTTP client would refuse to send.

use flowd_connector::secret::Redactor;
use proptest::prelude::*;
use reqwest::header::{HeaderName, HeaderValue};

proptest! {
    #[test]
    fn a_snippet_never_shows_four_characters_of_a_secret(
        secret in "[A-Za-z0-9+/=_-]{8,40}",
        before in 0usize..400,
        after in 0usize..400,
        cut in 1usize..400,
    ) {
        let marker = flowd_connector::secret::REDACTED;
        // A secret sharing four characters with the marker itself would prove nothing.
        prop_assume!((0..=secret.len() - 4).all(|start| !marker.contains(&secret[start..start + 4])));
        let mut redactor = Redactor::default();
        redactor.add(&secret);
        let body = format!("{}{secret}{}", " ".repeat(before), ".".repeat(after));
        let shown = redactor.snippet(body.as_bytes(), cut);
        for start in 0..=secret.len() - 4 {
            let piece = &secret[start..start + 4];
            prop_assert!(!shown.contains(piece), "{:?} shows in {:?}", piece, shown);
        }
    }

    #[test]
    fn header_names_and_values_validation_accepts_are_ones_the_client_sends(text in "\\PC{0,12}|[\\x00-\\x7f]{0,12}") {
        if flowd_spec::header_value_problem(&text).is_ok() {
            prop_assert!(HeaderValue::from_str(&text).is_ok(), "{:?}", text);
        }
        if flowd_spec::header_name_problem(&text).is_ok() {
            prop_assert!(HeaderName::from_bytes(text.as_bytes()).is_ok(), "{:?}", text);
        }
    }
}
