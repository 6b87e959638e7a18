//! The floor: a plain sequential fetch loop over the mock's `/offset` pages.
//!
//! It does what any OFFSET client must do and nothing else: GET each page,
//! parse the body with serde_json into a `Value`, count the records at
//! `items`, and ask for the next offset until a short page. No extraction,
//! no output. The engine is compared against this loop, measured in the same
//! run against the same server.

use std::time::{Duration, Instant};

use serde_json::Value;

/// Page size asked for, as the engine's spec does.
pub const PAGE_SIZE: usize = 100;

/// One pass of the floor loop.
pub struct FloorRun {
    pub records: usize,
    pub wall: Duration,
}

/// Fetches every page of `{base_url}/offset` in order.
pub fn run(base_url: &str) -> Result<FloorRun, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    runtime.block_on(fetch_all(base_url))
}

async fn fetch_all(base_url: &str) -> Result<FloorRun, String> {
    // The client is built before the clock starts; the engine's wall time
    // includes its own start-up, so this only favours the floor.
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut offset = 0usize;
    loop {
        let url = format!("{base_url}/offset?limit={PAGE_SIZE}&offset={offset}");
        let body = client
            .get(&url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("GET {url}: {e}"))?
            .bytes()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let page: Value =
            serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))?;
        let count = page
            .get("items")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        offset += count;
        if count < PAGE_SIZE {
            break;
        }
    }
    Ok(FloorRun {
        records: offset,
        wall: started.elapsed(),
    })
}
