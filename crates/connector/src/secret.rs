//! Secrets and their redaction. A [`Secret`] never prints its value
//! (`Debug` and `Display` show `<redacted>`), and a [`Redactor`] scrubs every
//! known secret value, raw or percent-encoded, from URLs, header values and
//! body snippets before they reach a log, an error or a trace.

use std::fmt;

/// What replaces a secret value in anything shown to people.
pub const REDACTED: &str = "<redacted>";

/// A credential value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(REDACTED)
    }
}

/// Scrubs known secret values from text.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is replaced whole.
    needles: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Redactor({} secrets)", self.needles.len())
    }
}

/// Values this short are not redacted: replacing every "1" in a URL would
/// make errors unreadable and protects nothing.
const SHORTEST_REDACTED_SECRET: usize = 4;

impl Redactor {
    /// Adds a secret value (and its percent-encoded and base64 Basic forms
    /// are covered by the callers adding them too).
    pub fn add(&mut self, secret: &str) {
        if secret.len() < SHORTEST_REDACTED_SECRET {
            return;
        }
        let encoded: String =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let form_encoded: String = form_urlencoded_value(secret);
        for needle in [secret.to_owned(), encoded, form_encoded] {
            if !self.needles.contains(&needle) {
                self.needles.push(needle);
            }
        }
        self.needles
            .sort_by_key(|needle| std::cmp::Reverse(needle.len()));
    }

    /// `text` with every known secret replaced by `<redacted>`.
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = text.to_owned();
        for needle in &self.needles {
            if redacted.contains(needle.as_str()) {
                redacted = redacted.replace(needle.as_str(), REDACTED);
            }
        }
        redacted
    }
}

impl Redactor {
    /// The first `max_bytes` of `body` as text, every known secret redacted — including one
    /// that starts before the cut and ends after it, which a cut-then-redact would leave in part.
    /// What comes after the cut is never shown, however much the redaction shortened the text.
    pub fn snippet(&self, body: &[u8], max_bytes: usize) -> String {
        let longest = self.needles.first().map_or(0, String::len);
        let window = &body[..body.len().min(max_bytes.saturating_add(longest))];
        let text = String::from_utf8_lossy(window);
        let mut cut = max_bytes.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        // Every occurrence that starts before the cut lies whole inside the window.
        let mut matches: Vec<(usize, usize)> = Vec::new();
        for needle in &self.needles {
            for (start, _) in text.match_indices(needle.as_str()) {
                let end = start + needle.len();
                let overlaps = matches
                    .iter()
                    .any(|&(taken_start, taken_end)| start < taken_end && taken_start < end);
                if start < cut && !overlaps {
                    matches.push((start, end));
                }
            }
        }
        matches.sort_unstable();
        let mut shown = String::with_capacity(cut);
        let mut position = 0;
        for (start, end) in matches {
            shown.push_str(&text[position..start]);
            shown.push_str(REDACTED);
            position = end;
        }
        if position < cut {
            shown.push_str(&text[position..cut]);
        }
        shown
    }
}

fn form_urlencoded_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print_their_value() {
        let secret = Secret::new("hunter2-password");
        assert_eq!(format!("{secret:?} {secret}"), "<redacted> <redacted>");
        assert_eq!(secret.expose(), "hunter2-password");
    }

    #[test]
    fn a_secret_at_any_offset_around_the_cut_never_shows_even_in_part() {
        let secret = "correct-horse-battery-staple";
        let basic = "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZTpwYXNzd29yZA==";
        let mut redactor = Redactor::default();
        redactor.add(secret);
        redactor.add(basic);
        let cut = 64;
        for needle in [secret, basic] {
            for offset in 0..cut + needle.len() {
                // Earlier secrets shorten the text; the later one must still not slip in.
                let body = format!("{secret}{}{needle}{}", "x".repeat(offset), "y".repeat(80));
                let shown = redactor.snippet(body.as_bytes(), cut);
                assert!(shown.len() <= cut + REDACTED.len(), "{shown}");
                for part in 4..=needle.len() {
                    for start in 0..=needle.len() - part {
                        let piece = &needle[start..start + part];
                        assert!(
                            !shown.contains(piece),
                            "offset {offset}: {piece:?} of a secret shows in {shown:?}"
                        );
                    }
                }
            }
        }
        assert_eq!(redactor.snippet(b"plain text", 4), "plai");
        assert_eq!(
            redactor.snippet("héllo".as_bytes(), 2),
            "h",
            "cut on a character boundary"
        );
    }

    #[test]
    fn redaction_covers_raw_and_encoded_forms() {
        let mut redactor = Redactor::default();
        redactor.add("s3cr et/+=");
        redactor.add("abc");
        let text =
            "url ?key=s3cr%20et%2F%2B%3D and form key=s3cr+et%2F%2B%3D raw s3cr et/+= short abc";
        assert_eq!(
            redactor.redact(text),
            "url ?key=<redacted> and form key=<redacted> raw <redacted> short abc"
        );
    }
}
