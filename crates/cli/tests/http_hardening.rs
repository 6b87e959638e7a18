//! `flowd serve` against clients that never finish: unfinished request heads, idle
//! keep-alive connections and bodies shorter than their `Content-Length` are closed after
//! their timeouts; a flood of unfinished heads past the connection cap does not keep
//! `/healthz` from answering; oversized targets and headers get Flow Service errors; raw quotes
//! and angle brackets in targets, as curl sends filters, are answered on a keep-alive connection.

mod common;

use std::time::{Duration, Instant};

use common::{Credential, Server, data_dir};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn address(server: &Server) -> String {
    server
        .base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

/// Whether the server closed `stream` (a read returns end of file or an error) within `wait`.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A response (408, 503) before the close: keep reading.
            Ok(Ok(_)) => continue,
        }
    }
}

async fn healthz_answers(client: &reqwest::Client, server: &Server) -> bool {
    match client
        .get(format!("{}/healthz", server.base_url))
        .timeout(Duration::from_secs(3))
        .send()
        .await
    {
        Ok(response) => response.status() == 200,
        Err(error) => {
            eprintln!("healthz failed: {error:?}");
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_requests_are_closed_after_their_timeouts_and_healthz_keeps_answering() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start_with_args(
        &data_dir,
        &[
            "--head-timeout-ms",
            "700",
            "--body-timeout-ms",
            "700",
            "--max-connections",
            "20",
        ],
    );
    let address = address(&server);
    let client = reqwest::Client::new();

    // 1. Slowloris: many more unfinished heads than the cap. `/healthz` answers meanwhile.
    let mut loris = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: flowd\r\nX-Slow: ")
            .await
            .unwrap();
        loris.push(stream);
    }
    let started = Instant::now();
    assert!(
        healthz_answers(&client, &server).await,
        "healthz did not answer during the flood\n{}",
        server.logs()
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Every unfinished head is closed by the head timeout (or earlier, to make room).
    for stream in &mut loris {
        assert!(
            closed_within(stream, Duration::from_secs(3)).await,
            "an unfinished head stayed open"
        );
    }

    // 2. An idle keep-alive connection is closed after the head timeout.
    let mut idle = TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: flowd\r\n\r\n")
        .await
        .unwrap();
    let mut first = vec![0u8; 1024];
    let read = idle.read(&mut first).await.unwrap();
    assert!(String::from_utf8_lossy(&first[..read]).starts_with("HTTP/1.1 200"));
    let idle_since = Instant::now();
    assert!(
        closed_within(&mut idle, Duration::from_secs(3)).await,
        "the idle connection stayed open"
    );
    assert!(
        idle_since.elapsed() >= Duration::from_millis(500),
        "{:?}",
        idle_since.elapsed()
    );

    // 3. A body shorter than its Content-Length: 408 in the Flow Service format, then closed.
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let mut short = TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "POST /data/foundation/flowservice/connectionSpecs HTTP/1.1\r\nHost: flowd\r\n\
         Authorization: Bearer {}\r\nx-api-key: {}\r\nx-gw-ims-org-id: {}\r\n\
         x-sandbox-name: prod\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\": ",
        credential.token, credential.api_key, credential.org
    );
    short.write_all(head.as_bytes()).await.unwrap();
    let sent = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), short.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("FLOW-1100-408"), "{answer}");
    assert!(
        sent.elapsed() < Duration::from_secs(3),
        "{:?}",
        sent.elapsed()
    );

    // 4. Oversized targets and headers: Flow Service errors, not empty bodies.
    let long_target = format!("{}/healthz?{}", server.base_url, "a".repeat(9 * 1024));
    let response = client.get(long_target).send().await.unwrap();
    assert_eq!(response.status(), 414);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["type"],
        "https://ns.adobe.com/aep/errors/FLOW-1100-414"
    );
    let mut request = client.get(format!("{}/healthz", server.base_url));
    for index in 0..120 {
        request = request.header(format!("x-extra-{index}"), "1");
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 431);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["type"],
        "https://ns.adobe.com/aep/errors/FLOW-1100-431"
    );

    assert!(healthz_answers(&client, &server).await);
    assert!(server.terminate().success());
}

/// Sends `requests` as raw bytes on one keep-alive connection and returns each answer's status
/// line and body, in order.
async fn raw_exchange(address: &str, requests: &[String]) -> Vec<(String, serde_json::Value)> {
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut answers = Vec::new();
    for request in requests {
        stream.write_all(request.as_bytes()).await.unwrap();
        // Read one response: its head, then Content-Length bytes of body.
        let mut received = Vec::new();
        let mut buffer = [0u8; 8192];
        let (head, body) = loop {
            let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
                .await
                .expect("an answer")
                .unwrap();
            assert!(
                read > 0,
                "closed early: {}",
                String::from_utf8_lossy(&received)
            );
            received.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&received).into_owned();
            let Some((head, body)) = text.split_once("\r\n\r\n") else {
                continue;
            };
            let length: usize = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                break (head.to_owned(), body[..length].to_owned());
            }
        };
        let status = head.lines().next().unwrap().to_owned();
        let body = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&body).unwrap()
        };
        answers.push((status, body));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_with_raw_quotes_and_angle_brackets_as_curl_sends_them_are_answered() {
    let (_dir, data_dir) = data_dir();
    let server = Server::start(&data_dir);
    let credential = Credential::from_json(server.printed_credential.as_ref().unwrap());
    let request = |target: &str, body: Option<&str>| {
        let body_headers = body.map_or(String::new(), |body| {
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            )
        });
        format!(
            "{} /data/foundation/flowservice{target} HTTP/1.1\r\nHost: flowd\r\n\
             Authorization: Bearer {}\r\nx-api-key: {}\r\nx-gw-ims-org-id: {}\r\n\
             x-sandbox-name: prod\r\n{body_headers}\r\n{}",
            if body.is_some() { "POST" } else { "GET" },
            credential.token,
            credential.api_key,
            credential.org,
            body.unwrap_or_default()
        )
    };
    // One keep-alive connection: raw quotes, a body holding quotes and brackets, then more
    // raw targets after it.
    let answers = raw_exchange(
        &address(&server),
        &[
            request("/flowSpecs?property=name==\"RestStorageToAEP\"", None),
            request("/flowSpecs?property=name==\"SomethingElse\"", None),
            request(
                "/flows/search",
                Some("{\"queryString\": \"name==\\\"<none>\\\"\"}"),
            ),
            request(
                "/flowSpecs?property=name=='RestStorageToAEP'&property=createdAt>0",
                None,
            ),
            request(
                "/flowSpecs?property=name==%22RestStorageToAEP%22&count=TRUE",
                None,
            ),
        ],
    )
    .await;
    let statuses: Vec<&str> = answers.iter().map(|(status, _)| status.as_str()).collect();
    assert!(
        statuses
            .iter()
            .all(|status| status.starts_with("HTTP/1.1 200")),
        "{statuses:?}"
    );
    assert_eq!(answers[0].1["items"][0]["name"], "RestStorageToAEP");
    assert_eq!(answers[1].1["items"], serde_json::json!([]));
    assert_eq!(answers[2].1["items"], serde_json::json!([]));
    assert_eq!(answers[3].1["items"][0]["name"], "RestStorageToAEP");
    assert_eq!(answers[4].1, serde_json::json!({"count": 1}));
}
