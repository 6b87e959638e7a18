//! Property tests of the JSON body parser the fuzz target drives: a body whose integers all
//! fit 64 bits is read with each integer exact; one with an integer beyond is refused with
//! that integer's pointer, never stored rounded.

use flowd_api::fuzzing::parse_json_body;
use proptest::prelude::*;
use serde_json::Value;

/// A JSON tree as text, its integer leaves, and each leaf's pointer.
fn tree() -> impl Strategy<Value = (String, Vec<(String, i128)>)> {
    let leaf =
        any::<i128>().prop_map(|integer| (integer.to_string(), vec![(String::new(), integer)]));
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(|elements| {
                let mut leaves = Vec::new();
                let texts: Vec<String> = elements
                    .into_iter()
                    .enumerate()
                    .map(|(index, (text, inner_leaves))| {
                        leaves.extend(
                            inner_leaves
                                .into_iter()
                                .map(|(pointer, integer)| (format!("/{index}{pointer}"), integer)),
                        );
                        text
                    })
                    .collect();
                (format!("[{}]", texts.join(",")), leaves)
            }),
            proptest::collection::vec(inner, 0..4).prop_map(|members| {
                let mut leaves = Vec::new();
                let texts: Vec<String> =
                    members
                        .into_iter()
                        .enumerate()
                        .map(|(index, (text, inner_leaves))| {
                            leaves.extend(inner_leaves.into_iter().map(|(pointer, integer)| {
                                (format!("/k{index}{pointer}"), integer)
                            }));
                            format!("\"k{index}\": {text}")
                        })
                        .collect();
                (format!("{{{}}}", texts.join(", ")), leaves)
            }),
        ]
    })
}

fn fits_64_bits(integer: i128) -> bool {
    i64::try_from(integer).is_ok() || u64::try_from(integer).is_ok()
}

proptest! {
    #[test]
    fn integers_are_read_exactly_or_refused_with_their_pointer((text, leaves) in tree()) {
        let wide: Vec<&String> = leaves
            .iter()
            .filter(|(_, integer)| !fits_64_bits(*integer))
            .map(|(pointer, _)| pointer)
            .collect();
        match parse_json_body(text.as_bytes()) {
            Ok(document) => {
                prop_assert!(wide.is_empty(), "{} read although {:?} do not fit", text, wide);
                for (pointer, integer) in &leaves {
                    let value = document.pointer(pointer).cloned().unwrap_or(Value::Null);
                    let exact = value.as_i64().map(i128::from).or(value.as_u64().map(i128::from));
                    prop_assert_eq!(exact, Some(*integer), "{} at {}", text, pointer);
                }
            }
            Err(error) => {
                let shown = format!("{error:?}");
                prop_assert!(!wide.is_empty(), "{} refused: {}", text, shown);
                for pointer in wide {
                    prop_assert!(shown.contains(&format!("{pointer:?}")), "{} not named in {}", pointer, shown);
                }
            }
        }
    }
}
