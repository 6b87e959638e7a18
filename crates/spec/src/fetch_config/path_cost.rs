//! Which JSONPaths a spec may evaluate on a page: the forms whose result can grow faster than
//! the page are refused when the spec is written.
//!
//! A JSONPath's result is a list of references into the page. With at most one descendant
//! segment (`..`), every node of the page is reached once, so the list holds at most one entry
//! per node and selector multiplicity. Two descendant segments (`$..a..b`, or one inside a
//! filter under another) visit each node once per ancestor the first one matched: on a page
//! nested `d` deep that is `d²` entries, which is how `$..k..k..k` on a 0.7 MB page passed
//! 6 GB. A union (`['a','b']`) can select the same node once per selector; the product of
//! those multiplicities over the path is capped, so the list stays within
//! [`MAX_SELECTOR_MULTIPLICITY`] entries per node.
//!
//! The scan reads the path as written (already accepted by the RFC 9535 parser), honouring
//! string literals and their escapes, so a `..` or a `,` inside a quoted name counts for
//! nothing.

/// Descendant segments a path may hold, filters included.
pub const MAX_DESCENDANT_SEGMENTS: usize = 1;

/// The largest product of union multiplicities over a path's segments.
pub const MAX_SELECTOR_MULTIPLICITY: usize = 4;

/// Why evaluating `path_text` (a valid RFC 9535 query) could cost more than its page, if it
/// could.
pub(super) fn evaluation_cost_problem(path_text: &str) -> Option<String> {
    let scan = scan(path_text);
    if scan.descendant_segments > MAX_DESCENDANT_SEGMENTS {
        return Some(format!(
            "holds {} descendant segments (..); at most {MAX_DESCENDANT_SEGMENTS} is allowed, because each one more multiplies the matches by the depth of the page",
            scan.descendant_segments
        ));
    }
    if scan.multiplicity > MAX_SELECTOR_MULTIPLICITY {
        return Some(format!(
            "can select one value {} times through its unions; at most {MAX_SELECTOR_MULTIPLICITY} is allowed (distinct names in a union count once)",
            scan.multiplicity
        ));
    }
    None
}

struct Scan {
    descendant_segments: usize,
    multiplicity: usize,
}

fn scan(path_text: &str) -> Scan {
    let characters: Vec<char> = path_text.chars().collect();
    let mut descendant_segments = 0;
    let mut multiplicity: usize = 1;
    let mut bracket_depth = 0usize;
    let mut paren_depth = 0usize;
    // Selectors of the top-level bracket segment being read, as written.
    let mut selectors: Vec<String> = Vec::new();
    let mut selector = String::new();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let top_level = bracket_depth == 1 && paren_depth == 0;
        match character {
            '\'' | '"' => {
                let end = string_end(&characters, index);
                if top_level {
                    selector.extend(&characters[index..end]);
                }
                index = end;
                continue;
            }
            '.' if characters.get(index + 1) == Some(&'.') => {
                descendant_segments += 1;
                index += 2;
                continue;
            }
            '[' => {
                bracket_depth += 1;
                if bracket_depth == 1 {
                    selectors.clear();
                    selector.clear();
                } else if top_level {
                    selector.push(character);
                }
            }
            ']' => {
                if bracket_depth == 1 {
                    selectors.push(std::mem::take(&mut selector));
                    multiplicity = multiplicity.saturating_mul(segment_multiplicity(&selectors));
                } else if bracket_depth > 1 && paren_depth == 0 {
                    selector.push(character);
                }
                bracket_depth = bracket_depth.saturating_sub(1);
            }
            '(' => {
                paren_depth += 1;
                if bracket_depth == 1 {
                    selector.push(character);
                }
            }
            ')' => {
                paren_depth = paren_depth.saturating_sub(1);
                if bracket_depth == 1 {
                    selector.push(character);
                }
            }
            ',' if top_level => selectors.push(std::mem::take(&mut selector)),
            _ if bracket_depth >= 1 && (!character.is_whitespace() || !top_level) => {
                selector.push(character);
            }
            _ => {}
        }
        index += 1;
    }
    Scan {
        descendant_segments,
        multiplicity,
    }
}

/// The index just past the string literal opening at `start` (RFC 9535: `\` escapes the next
/// character; the other quote is literal inside).
fn string_end(characters: &[char], start: usize) -> usize {
    let quote = characters[start];
    let mut index = start + 1;
    while index < characters.len() {
        match characters[index] {
            '\\' => index += 2,
            character if character == quote => return index + 1,
            _ => index += 1,
        }
    }
    characters.len()
}

/// How many times one bracket segment can select the same value: once when its selectors are
/// distinct plain names, else once per selector.
fn segment_multiplicity(selectors: &[String]) -> usize {
    let names: Option<Vec<&str>> = selectors
        .iter()
        .map(|selector| {
            let quoted = selector.len() >= 2
                && (selector.starts_with('\'') && selector.ends_with('\'')
                    || selector.starts_with('"') && selector.ends_with('"'));
            (quoted && !selector.contains('\\')).then(|| &selector[1..selector.len() - 1])
        })
        .collect();
    match names {
        Some(mut names) => {
            let count = names.len();
            names.sort_unstable();
            names.dedup();
            if names.len() == count { 1 } else { count }
        }
        None => selectors.len().max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_descendant_segment_and_distinct_names_are_allowed() {
        for path in [
            "$",
            "$.data.items",
            "$..items",
            "$..*",
            "$..[*]",
            "$.*..k",
            "$['a','b','c','d','e','f']",
            "$..['id','name']",
            "$[?@.kind == 'a..b']",
            "$['x..y'].z",
            "$[\"it's\"]..a",
            "$[?match(@.a, 'x,y,z')]",
            "$[0,1]['a','b']",
            "$[1:3]",
        ] {
            assert_eq!(evaluation_cost_problem(path), None, "{path}");
        }
    }

    #[test]
    fn paths_whose_matches_outgrow_the_page_are_refused() {
        for (path, reason) in [
            ("$..k..k", "2 descendant segments"),
            ("$..k..k..k", "3 descendant segments"),
            ("$..a[?@..b]", "2 descendant segments"),
            ("$['x\\'']..a..b", "2 descendant segments"),
            ("$..[*,*,*,*,*]", "5 times"),
            ("$..['a','a','a','a','a']", "5 times"),
            ("$[0,0][0,0][0,0]", "8 times"),
        ] {
            let problem = evaluation_cost_problem(path).unwrap_or_default();
            assert!(problem.contains(reason), "{path}: {problem:?}");
        }
    }
}
