//! `${name}` placeholders (and the beta-era `{{name}}` spelling) inside spec strings, plus the
//! reserved single-brace tokens `{SCHEDULE_QUERY}`, `{START_TIME}` and `{END_TIME}`.
//!
//! A placeholder name is the trimmed text between the delimiters; text such as `${}` or an
//! unterminated `${name` is left as a literal, because Adobe's examples contain other brace
//! syntaxes (Azure Data Factory `@{...}` expressions, JSON bodies) that must pass through.
//! Reserved tokens are filled by the runtime (schedule windows), so a spec never declares them;
//! the same names written as `${START_TIME}` are treated as reserved too.
//! Percent-encoding substituted values is the caller's job: only it knows where the text goes.

use std::borrow::Cow;
use std::ops::Range;

/// Names the runtime supplies itself; they never need a declaration in a spec.
pub const RESERVED_PLACEHOLDER_NAMES: [&str; 3] = ["SCHEDULE_QUERY", "START_TIME", "END_TIME"];

/// How a placeholder was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceholderSyntax {
    /// `${name}`, the current documented syntax.
    Dollar,
    /// `{{name}}`, the beta-era syntax.
    DoubleBrace,
    /// `{NAME}` for one of [`RESERVED_PLACEHOLDER_NAMES`].
    ReservedBrace,
}

/// One placeholder found in a template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceholderOccurrence<'t> {
    /// The placeholder name, trimmed of surrounding whitespace.
    pub name: &'t str,
    /// The delimiters used.
    pub syntax: PlaceholderSyntax,
    /// Byte range of the whole placeholder including delimiters.
    pub byte_range: Range<usize>,
}

impl PlaceholderOccurrence<'_> {
    /// Whether the runtime supplies this value (so a spec must not be asked to declare it).
    pub fn is_reserved(&self) -> bool {
        RESERVED_PLACEHOLDER_NAMES.contains(&self.name)
    }
}

/// A placeholder for which the lookup gave no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("placeholder {name} has no value")]
pub struct UnresolvedPlaceholder {
    /// The name that could not be resolved.
    pub name: String,
}

/// Every placeholder in `template`, in order of appearance, reserved ones included.
pub fn find_placeholders(template: &str) -> Vec<PlaceholderOccurrence<'_>> {
    let mut occurrences = Vec::new();
    let mut search_from = 0;
    while let Some(relative_start) = template[search_from..].find(['$', '{']) {
        let start = search_from + relative_start;
        match placeholder_at(template, start) {
            Some(occurrence) => {
                search_from = occurrence.byte_range.end;
                occurrences.push(occurrence);
            }
            None => search_from = start + 1,
        }
    }
    occurrences
}

/// Names of the placeholders a spec must declare (reserved ones excluded), in order, with
/// repeats.
pub fn placeholder_names_to_declare(template: &str) -> Vec<&str> {
    find_placeholders(template)
        .into_iter()
        .filter(|occurrence| !occurrence.is_reserved())
        .map(|occurrence| occurrence.name)
        .collect()
}

/// Replaces every placeholder (reserved ones included, looked up by their bare name) with the
/// value `lookup` gives; fails on the first placeholder without a value.
pub fn render<'v>(
    template: &str,
    lookup: impl Fn(&str) -> Option<Cow<'v, str>>,
) -> Result<String, UnresolvedPlaceholder> {
    let mut rendered = String::with_capacity(template.len());
    let mut copied_up_to = 0;
    for occurrence in find_placeholders(template) {
        rendered.push_str(&template[copied_up_to..occurrence.byte_range.start]);
        let value = lookup(occurrence.name).ok_or_else(|| UnresolvedPlaceholder {
            name: occurrence.name.to_owned(),
        })?;
        rendered.push_str(&value);
        copied_up_to = occurrence.byte_range.end;
    }
    rendered.push_str(&template[copied_up_to..]);
    Ok(rendered)
}

/// The placeholder starting at byte `start` (which holds `$` or `{`), if one does.
fn placeholder_at(template: &str, start: usize) -> Option<PlaceholderOccurrence<'_>> {
    let rest = &template[start..];
    let (syntax, opening, closing) = if rest.starts_with("${") {
        (PlaceholderSyntax::Dollar, "${", "}")
    } else if rest.starts_with("{{") {
        (PlaceholderSyntax::DoubleBrace, "{{", "}}")
    } else if rest.starts_with('{') {
        (PlaceholderSyntax::ReservedBrace, "{", "}")
    } else {
        return None;
    };
    let inner_start = start + opening.len();
    let inner_length = template[inner_start..].find(closing)?;
    let inner = &template[inner_start..inner_start + inner_length];
    let name = inner.trim();
    if name.is_empty() || name.contains(['{', '}']) {
        return None;
    }
    if syntax == PlaceholderSyntax::ReservedBrace && !RESERVED_PLACEHOLDER_NAMES.contains(&inner) {
        return None;
    }
    Some(PlaceholderOccurrence {
        name,
        syntax,
        byte_range: start..inner_start + inner_length + closing.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn finds_both_syntaxes_and_reserved_tokens_in_order() {
        let template = "https://${domain}.api.com/{{ listId }}?q={SCHEDULE_QUERY}&x=${START_TIME}";
        let found: Vec<(&str, PlaceholderSyntax, bool)> = find_placeholders(template)
            .iter()
            .map(|o| (o.name, o.syntax, o.is_reserved()))
            .collect();
        assert_eq!(
            found,
            [
                ("domain", PlaceholderSyntax::Dollar, false),
                ("listId", PlaceholderSyntax::DoubleBrace, false),
                ("SCHEDULE_QUERY", PlaceholderSyntax::ReservedBrace, true),
                ("START_TIME", PlaceholderSyntax::Dollar, true),
            ]
        );
        assert_eq!(placeholder_names_to_declare(template), ["domain", "listId"]);
    }

    #[test]
    fn other_brace_syntaxes_are_literal() {
        let cases = [
            "/export@{if(empty(coalesce(pipeline()?.parameters?.ingestionStart,'')),'?a','')}",
            "{\"json\": {\"nested\": 1}}",
            "${}",
            "${unterminated",
            "{domain}",
            "$ {x}",
        ];
        for template in cases {
            assert_eq!(find_placeholders(template), [], "{template}");
        }
    }

    #[test]
    fn render_substitutes_every_placeholder() {
        let values: HashMap<&str, &str> = [
            ("domain", "us6"),
            ("listId", "10c0"),
            ("SCHEDULE_QUERY", "type:user"),
        ]
        .into();
        let lookup = |name: &str| values.get(name).map(|value| Cow::Borrowed(*value));
        assert_eq!(
            render(
                "https://${domain}.x/{{listId}}/m?q={SCHEDULE_QUERY}",
                lookup
            )
            .unwrap(),
            "https://us6.x/10c0/m?q=type:user"
        );
        assert_eq!(
            render("no placeholders", lookup).unwrap(),
            "no placeholders"
        );
        assert_eq!(
            render("/${missing}/", lookup),
            Err(UnresolvedPlaceholder {
                name: "missing".into()
            })
        );
    }
}
