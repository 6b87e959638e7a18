//! The page size limit (`--max-page-bytes`), enforced while the body is read: a page over
//! the limit fails the request once, without retries; a gzip body that inflates past it is
//! stopped while it is decoded; and a 256 MiB page costs the process about the limit, not
//! the page. This file holds one test so that the process's peak memory is its alone.

mod common;

use std::io::Write as _;
use std::time::Duration;

use common::*;
use flowd_connector::{FetchError, HttpOptions, RunError};
use flowd_mockapi::{MockApi, Scenario};
use serde_json::Value;

const MIB: u64 = 1024 * 1024;

fn spec_for(host: &str) -> Value {
    connection_spec(attributes(host, "/page", "$.records", Value::Null))
}

fn limited_client(limit: u64) -> flowd_connector::HttpClient {
    client_with(HttpOptions {
        max_body_bytes: limit,
        ..fast_options()
    })
}

fn assert_too_large(error: &RunError, limit: u64) {
    match error {
        RunError::Fetch {
            error: FetchError::TooLarge { limit: shown, .. },
            ..
        } => assert_eq!(*shown, limit),
        other => panic!("expected a page over the limit, got {other:?}"),
    }
    assert!(error.to_string().contains("--max-page-bytes"), "{error}");
}

#[tokio::test]
async fn pages_over_the_limit_fail_while_read_without_retries_and_cost_about_the_limit() {
    // 1. A page over the limit from a real JSON route: one request, no retry.
    let mock = MockApi::start(Scenario::generated(20_000)).await;
    let spec = connection_spec(attributes(
        &mock.base_url(),
        "/none",
        "$.records",
        Value::Null,
    ));
    let (pages, error) = collect_error(limited_client(MIB), plan(&spec)).await;
    assert!(pages.is_empty());
    assert_too_large(&error, MIB);
    assert_eq!(
        mock.request_count(),
        1,
        "a page over the limit is not retried"
    );

    // 2. A 64 KiB gzip body that inflates to 64 MiB is stopped while it is decoded.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![b' '; MIB as usize];
    for _ in 0..64 {
        encoder.write_all(&zeros).unwrap();
    }
    let compressed = encoder.finish().unwrap();
    assert!(compressed.len() < 512 * 1024, "{} bytes", compressed.len());
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        compressed.len()
    );
    let bomb = streaming_upstream(head, compressed, 1).await;
    let (_, error) = collect_error(limited_client(MIB), plan(&spec_for(&bomb))).await;
    assert_too_large(&error, MIB);

    // 3. A declared Content-Length over the limit fails before the body is read.
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        64 * MIB
    );
    let declared = streaming_upstream(head, vec![b' '; 64 * 1024], 1).await;
    let (_, error) = collect_error(limited_client(MIB), plan(&spec_for(&declared))).await;
    assert_too_large(&error, MIB);

    // 4. 256 MiB, chunked, under the default limit: the process grows by about the limit.
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_owned();
    let piece = vec![b' '; 256 * 1024];
    let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
    chunk.extend_from_slice(&piece);
    chunk.extend_from_slice(b"\r\n");
    let huge = streaming_upstream(head, chunk, 1024).await;
    let default_limit = HttpOptions::DEFAULT_MAX_BODY_BYTES;
    reset_peak_rss();
    let before = peak_rss();
    let started = std::time::Instant::now();
    let (_, error) = collect_error(limited_client(default_limit), plan(&spec_for(&huge))).await;
    let grown = peak_rss().saturating_sub(before);
    assert_too_large(&error, default_limit);
    assert!(
        grown < default_limit + 48 * MIB,
        "a 256 MiB page grew the process by {} MiB (limit {} MiB)",
        grown / MIB,
        default_limit / MIB
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    println!(
        "256 MiB page refused at the {} MiB limit: peak RSS grew {} MiB in {:?}",
        default_limit / MIB,
        grown / MIB,
        started.elapsed()
    );
}
