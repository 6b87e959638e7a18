//! Property tests of the invariants the fuzz targets (`fuzz/`) check, on generated inputs:
//! placeholder occurrences are well-formed and always render; the JSONPath cost rules refuse
//! exactly the paths with more than one descendant segment or a union multiplicity over the
//! cap; every .NET format built from its tokens renders any instant of the range without panicking.

use std::borrow::Cow;

use flowd_spec::{
    DeclaredNames, DotNetDateFormat, MAX_SELECTOR_MULTIPLICITY, find_placeholders, render,
    resolve_fetch_config,
};
use proptest::prelude::*;
use serde_json::json;

proptest! {
    #[test]
    fn placeholder_occurrences_are_in_order_within_the_template_and_always_render(
        template in "(\\$\\{[a-zA-Z_ ]{0,6}\\}?|\\{[A-Z_]{0,6}\\}?|@\\{[a-z()]{0,4}\\}|[a-z/?=&$@{} ]{0,4}){0,8}"
    ) {
        let mut previous_end = 0;
        for occurrence in find_placeholders(&template) {
            prop_assert!(occurrence.byte_range.start >= previous_end);
            prop_assert!(template.get(occurrence.byte_range.clone()).is_some());
            previous_end = occurrence.byte_range.end;
        }
        let rendered = render(&template, |name| Some(Cow::Owned(format!("<{name}>"))));
        prop_assert!(rendered.is_ok());
    }

    #[test]
    fn the_path_cost_rules_refuse_exactly_what_can_outgrow_the_page(
        segments in proptest::collection::vec((any::<bool>(), 0usize..4, 1usize..4, any::<bool>()), 1..5)
    ) {
        // Each segment: descendant or child; a name, a wildcard, a union of distinct names
        // or a union of one name repeated.
        let mut path = String::from("$");
        let mut descendants = 0;
        let mut multiplicity = 1usize;
        for (descendant, kind, width, repeated) in segments {
            if descendant {
                descendants += 1;
                path.push_str("..");
            } else if kind != 2 && kind != 3 {
                path.push('.');
            }
            match kind {
                0 => path.push_str("name"),
                1 => path.push('*'),
                _ => {
                    let names: Vec<String> = (0..width)
                        .map(|index| if repeated { "'a'".to_owned() } else { format!("'n{index}'") })
                        .collect();
                    path.push('[');
                    path.push_str(&names.join(","));
                    path.push(']');
                    if repeated && width > 1 {
                        multiplicity *= width;
                    }
                }
            }
        }
        let attributes = json!({
            "urlParams": {"host": "https://example.test", "path": "/"},
            "contentPath": {"path": path}
        });
        let resolved = resolve_fetch_config(&attributes, "", &DeclaredNames::default());
        let refused = descendants > 1 || multiplicity > MAX_SELECTOR_MULTIPLICITY;
        prop_assert_eq!(resolved.is_err(), refused, "{} -> {:?}", path, resolved.err());
    }

    #[test]
    fn every_format_made_of_its_tokens_renders_any_instant(
        tokens in proptest::collection::vec(
            prop::sample::select(vec!["yyyy", "yy", "MM", "M", "dd", "d", "HH", "H", "hh", "mm", "ss",
                                      "f", "fff", "fffffff", "FFF", "K", "zzz", "z", "tt", "'T'", "-", ":", " ", "."]),
            1..10),
        seconds in jiff::Timestamp::MIN.as_second()..=jiff::Timestamp::MAX.as_second()
    ) {
        // Separated, so that two tokens never merge into a longer one (`f` + `fffffff`).
        // A format needs one date or time token; `yyyy` leads.
        let pattern = format!("yyyy-{}", tokens.join("-"));
        let format = DotNetDateFormat::parse(&pattern);
        prop_assert!(format.is_ok(), "{} -> {:?}", pattern, format.err());
        let instant = jiff::Timestamp::from_second(seconds).unwrap();
        // Rendering never panics, whatever the instant; these tokens write ASCII only (`FFF`
        // of a whole second writes nothing at all, as .NET does).
        let rendered = format.unwrap().render(instant);
        prop_assert!(rendered.is_ascii(), "{} at {} -> {:?}", pattern, instant, rendered);
    }
}
