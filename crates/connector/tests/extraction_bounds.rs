//! Extraction costs memory in proportion to the page, whatever the JSONPath: `$..*` (or
//! `$..k`) on a page nested 100 deep would copy every subtree once per ancestor — 50x the
//! page — and is refused at the extraction bound instead, for a preview's 100 records as for a
//! whole run; a flat page read with `$..*` still extracts. One test per process, so the peak
//! resident set measured is this test's alone.

mod common;

use common::*;
use flowd_connector::{RunError, RunLimits};
use serde_json::{Value, json};

const MIB: u64 = 1024 * 1024;

/// `{"k": {"k": … {"leaf": true} …, "pad": "xxx…"}, "pad": "xxx…"}`, `depth` levels, each with
/// `pad` bytes of its own: about `depth × pad` bytes in all.
fn deep_page(depth: usize, pad: usize) -> Vec<u8> {
    let filler = "x".repeat(pad);
    let mut text = String::with_capacity(depth * (pad + 16));
    for _ in 0..depth {
        text.push_str(r#"{"k":"#);
    }
    text.push_str(r#"{"leaf":true}"#);
    for _ in 0..depth {
        text.push_str(r#","pad":""#);
        text.push_str(&filler);
        text.push_str(r#""}"#);
    }
    text.into_bytes()
}

async fn serve_page(page: Vec<u8>) -> String {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        page.len()
    );
    streaming_upstream(head, page, 1).await
}

fn spec(host: &str, content_path: &str) -> Value {
    connection_spec(attributes(host, "/deep", content_path, Value::Null))
}

fn assert_refused_at_the_bound(error: &RunError) {
    match error {
        RunError::ExtractionBound { error: source, .. } => {
            let reason = source.to_string();
            assert!(reason.contains("would exceed"), "{reason}");
            assert!(reason.contains("4x the page"), "{reason}");
        }
        other => panic!("expected the page refused at the extraction bound, got {other:?}"),
    }
}

#[tokio::test]
async fn recursive_descent_on_a_deep_page_is_refused_within_a_bounded_memory() {
    // 100 levels of 12 KiB: a 1.2 MB page whose subtrees sum to 60 MB of JSON.
    let page = deep_page(100, 12 * 1024);
    let page_bytes = page.len() as u64;
    let host = serve_page(page).await;
    let bound = 64 * MIB;
    for (content_path, preview) in [("$..*", true), ("$..*", false), ("$..k", false)] {
        let mut plan = plan(&spec(&host, content_path));
        if preview {
            // What explore asks for: the first 100 records.
            plan.limits = RunLimits {
                max_records: Some(100),
                ..RunLimits::default()
            };
        }
        reset_peak_rss();
        let before = peak_rss();
        let (pages, error) = collect_error(client(), plan).await;
        let grown = peak_rss().saturating_sub(before);
        assert!(pages.is_empty());
        assert_refused_at_the_bound(&error);
        assert!(
            grown < bound,
            "{content_path} (preview: {preview}) on a {page_bytes}-byte page grew the process by {} MiB",
            grown / MIB
        );
        println!(
            "{content_path} (preview: {preview}) on a {} KiB page nested 100 deep: refused, peak RSS grew {} MiB",
            page_bytes / 1024,
            grown / MIB
        );
    }

    // The same expression on a flat page copies each record about twice: within the bound.
    let records: Vec<Value> = (0..2_000)
        .map(|id| json!({"id": id, "name": format!("member {id}"), "tags": ["a", "b"]}))
        .collect();
    let flat = serde_json::to_vec(&json!({"records": records})).unwrap();
    let host = serve_page(flat).await;
    let (pages, _) = collect(client(), plan(&spec(&host, "$..*"))).await;
    // The records array contributes its 2,000 elements, each record itself once more, and
    // each `tags` array its two elements; the scalar members match but are not records.
    assert_eq!(pages[0].records.len(), 8_000);
}
