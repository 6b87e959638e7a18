//! `POINTER` pagination: the response says where the next page is, at
//! `pointerPath` (first match).
//!
//! The first page sends `limitName=limitValue` when a page size is given.
//! The pointer is read as follows, because APIs give it in three shapes:
//! - a string starting with `http://` or `https://`: the next page's URL,
//!   requested as is ([`PageRequest::Url`]);
//! - a string starting with `/` or `?`, or containing `/` or `?`: a
//!   relative reference, resolved against the URL of the page that held it;
//! - any other non-empty string, or a number: an opaque token, sent back on
//!   the base request as `<token parameter>=<token>` after the page-size pair.
//!
//! The token parameter is named after the last name segment of the pointer
//! path (`$.paging.next` → `next`, `nextPageToken` → `nextPageToken`), since
//! [`PointerPagination`] has no field naming it; the choice is made in one
//! line of [`PointerPaginator::new`] so an explicit spec field can replace it.
//!
//! A missing, null or empty pointer, or one of another JSON type (a boolean,
//! an object), stops with [`StopReason::NoNextPointer`].

use flowd_spec::PointerPagination;

use super::{
    NextPage, PageRequest, PageResponse, Paginator, StopReason, page_size_pair,
    scalar_as_parameter_text,
};

/// State of one POINTER run (none beyond the config: each page says where
/// the next is).
#[derive(Debug, Clone)]
pub struct PointerPaginator {
    config: PointerPagination,
    /// Query parameter carrying a token-shaped pointer.
    token_parameter_name: String,
}

impl PointerPaginator {
    pub fn new(config: PointerPagination) -> PointerPaginator {
        let token_parameter_name = last_name_segment(&config.pointer_path_text);
        PointerPaginator {
            config,
            token_parameter_name,
        }
    }
}

impl Paginator for PointerPaginator {
    fn first_page(&mut self) -> PageRequest {
        PageRequest::Base {
            query: page_size_pair(self.config.page_size.as_ref())
                .into_iter()
                .collect(),
            headers: Vec::new(),
        }
    }

    fn next_page(&mut self, response: &PageResponse<'_>) -> NextPage {
        let pointer_value = self.config.pointer_path.query(response.body).first();
        let Some(pointer) = pointer_value.and_then(scalar_as_parameter_text) else {
            return NextPage::Stop(StopReason::NoNextPointer);
        };
        let lowercase_start = pointer.get(..8).unwrap_or(&pointer).to_ascii_lowercase();
        if lowercase_start.starts_with("http://") || lowercase_start.starts_with("https://") {
            return NextPage::Request(PageRequest::Url(pointer));
        }
        if pointer.contains(['/', '?']) {
            // A pointer that cannot be resolved is more likely an odd token
            // than a URL, so it falls through to the token form.
            if let Ok(resolved) = response.url.join(&pointer) {
                return NextPage::Request(PageRequest::Url(resolved.into()));
            }
        }
        let mut query: Vec<(String, String)> = page_size_pair(self.config.page_size.as_ref())
            .into_iter()
            .collect();
        query.push((self.token_parameter_name.clone(), pointer));
        NextPage::Request(PageRequest::Base {
            query,
            headers: Vec::new(),
        })
    }

    fn predicted_page(&self, _page_number: u64) -> Option<PageRequest> {
        None
    }
}

/// The last member name written in a JSONPath, in dot (`.next`) or bracket
/// (`['next']`, `["next"]`) form, skipping index and wildcard segments
/// (`$.links[0]` → `links`). A path without any name (`$[0]`) yields its
/// own text, the best label left.
fn last_name_segment(path_text: &str) -> String {
    let characters: Vec<char> = path_text.chars().collect();
    let mut last_name: Option<String> = None;
    let mut position = 0;
    while position < characters.len() {
        match characters[position] {
            '.' => {
                let start = position + 1;
                let mut end = start;
                while end < characters.len() && !matches!(characters[end], '.' | '[') {
                    end += 1;
                }
                let name: String = characters[start..end].iter().collect();
                if !name.is_empty() && name != "*" {
                    last_name = Some(name);
                }
                position = end;
            }
            '[' if matches!(characters.get(position + 1), Some('\'' | '"')) => {
                let quote = characters[position + 1];
                let start = position + 2;
                let mut end = start;
                while end < characters.len() && characters[end] != quote {
                    // Skip escaped characters so `['a\'b']` stays one name.
                    end += if characters[end] == '\\' { 2 } else { 1 };
                }
                let end = end.min(characters.len());
                last_name = Some(characters[start..end].iter().collect());
                position = end + 1;
            }
            _ if position == 0 && characters[0] != '$' && characters[0] != '[' => {
                // Adobe's `paging.next` spelling: a leading name without `$.`.
                let mut end = 0;
                while end < characters.len() && !matches!(characters[end], '.' | '[') {
                    end += 1;
                }
                last_name = Some(characters[..end].iter().collect());
                position = end;
            }
            _ => position += 1,
        }
    }
    last_name.unwrap_or_else(|| path_text.to_owned())
}

#[cfg(test)]
mod tests {
    use flowd_spec::Pagination;
    use serde_json::json;

    use super::super::test_support::{
        Case, FakePage, check_cases, json_path, next_query, next_url, page_size, query, stop,
    };
    use super::*;

    fn pointer(path_text: &str, with_page_size: bool) -> Pagination {
        Pagination::Pointer(PointerPagination {
            pointer_path: json_path(path_text),
            pointer_path_text: path_text.to_owned(),
            page_size: with_page_size.then(|| page_size("count", 50)),
        })
    }

    #[test]
    fn pointer_cases() {
        check_cases(vec![
            Case {
                description: "absolute urls are followed until the pointer is null",
                pagination: pointer("paging.next", true),
                pages: vec![
                    FakePage::items(
                        json!({"paging": {"next": "https://api.example.com/v1/items?after=a"}}),
                        50,
                    ),
                    FakePage::items(
                        json!({"paging": {"next": "HTTPS://other.example.com/p/3"}}),
                        50,
                    ),
                    FakePage::items(json!({"paging": {"next": null}}), 50),
                ],
                expected_first: query(&[("count", "50")]),
                expected_next: vec![
                    next_url("https://api.example.com/v1/items?after=a"),
                    next_url("HTTPS://other.example.com/p/3"),
                    stop(StopReason::NoNextPointer),
                ],
                expected_predicted: vec![(0, None), (1, None)],
            },
            Case {
                description: "relative references resolve against the page that held them",
                pagination: pointer("$.links.next", false),
                pages: vec![
                    FakePage::items(json!({"links": {"next": "/v2/items?page=2"}}), 3),
                    FakePage::items(json!({"links": {"next": "?page=3"}}), 3),
                    FakePage::items(json!({"links": {"next": "items/4"}}), 3),
                    FakePage::items(json!({"links": {"next": ""}}), 3),
                ],
                expected_first: query(&[]),
                expected_next: vec![
                    next_url("https://api.example.com/v2/items?page=2"),
                    next_url("https://api.example.com/v2/items?page=3"),
                    next_url("https://api.example.com/v2/items/4"),
                    stop(StopReason::NoNextPointer),
                ],
                expected_predicted: vec![],
            },
            Case {
                description: "tokens go back as a query parameter named after the path",
                pagination: pointer("nextPageToken", true),
                pages: vec![
                    FakePage::items(json!({"nextPageToken": "CAoQAA"}), 50),
                    FakePage::items(json!({"nextPageToken": 100}), 50),
                    FakePage::items(json!({"items": []}), 0),
                ],
                expected_first: query(&[("count", "50")]),
                expected_next: vec![
                    next_query(&[("count", "50"), ("nextPageToken", "CAoQAA")]),
                    next_query(&[("count", "50"), ("nextPageToken", "100")]),
                    stop(StopReason::NoNextPointer),
                ],
                expected_predicted: vec![],
            },
            Case {
                description: "a pointer of another json type stops",
                pagination: pointer("$.next", false),
                pages: vec![FakePage::items(json!({"next": true}), 1)],
                expected_first: query(&[]),
                expected_next: vec![stop(StopReason::NoNextPointer)],
                expected_predicted: vec![],
            },
        ]);
    }

    #[test]
    fn token_parameter_names() {
        let cases = [
            ("$.paging.next", "next"),
            ("paging.next", "next"),
            ("nextPageToken", "nextPageToken"),
            ("$['paging']['next_cursor']", "next_cursor"),
            ("$.links[0]", "links"),
            ("$.paging.*", "paging"),
            ("$..cursor", "cursor"),
            ("$[0]", "$[0]"),
        ];
        for (path_text, expected) in cases {
            assert_eq!(last_name_segment(path_text), expected, "{path_text}");
        }
    }
}
