//! The console's sessions: signing in turns an API credential into an HttpOnly, SameSite
//! session cookie and a CSRF token; the cookie stands in for AEP's credential headers on
//! every route, within the same tenancy; a state-changing request needs the token; signing
//! out (or expiry) ends the session for good. Also the console's page and files.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use common::{BASE, Caller, Reply, TestApp, assert_flow_error, fixture};
use flowd_api::credentials::token_hash;
use flowd_store::Session;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A signed-in browser: its `Cookie` header and the session's CSRF token.
struct Browser {
    cookie: String,
    csrf_token: String,
}

async fn sign_in_with(app: &TestApp, body: &Value, extra: &[(&str, &str)]) -> Reply {
    let mut request = Request::builder()
        .method("POST")
        .uri("/console/session")
        .header("content-type", "application/json");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    app.raw(request.body(Body::from(body.to_string())).unwrap())
        .await
}

fn credential_body(caller: &Caller) -> Value {
    json!({"apiKey": caller.api_key, "accessToken": caller.token})
}

/// The `name=value` part of the response's session `Set-Cookie`.
fn cookie_pair(headers: &HeaderMap) -> String {
    let set_cookie = headers
        .get("set-cookie")
        .expect("a Set-Cookie header")
        .to_str()
        .unwrap();
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

async fn sign_in(app: &TestApp, caller: &Caller) -> Browser {
    let reply = sign_in_with(app, &credential_body(caller), &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    Browser {
        cookie: cookie_pair(&reply.headers),
        csrf_token: reply.body["csrfToken"].as_str().unwrap().to_owned(),
    }
}

/// A request authenticated by the cookie alone, with the given extra headers.
async fn send_as_browser(
    app: &TestApp,
    cookie: &str,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Reply {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("cookie", cookie);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map(|body| Body::from(body.to_string()));
    app.raw(request.body(body.unwrap_or_default()).unwrap())
        .await
}

fn item_ids(reply: &Reply) -> Vec<String> {
    reply.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {}", reply.body))
        .iter()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

fn assert_gateway_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.body["error_code"], code, "{}", reply.body);
    assert!(reply.body["message"].is_string(), "{}", reply.body);
}

async fn connection_spec_count(app: &TestApp, caller: &Caller) -> usize {
    item_ids(&app.get(caller, "/connectionSpecs").await).len()
}

#[tokio::test]
async fn signing_in_sets_an_http_only_strict_session_cookie_and_answers_a_csrf_token() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let reply = sign_in_with(&app, &credential_body(&caller), &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let set_cookie = reply.headers["set-cookie"].to_str().unwrap();
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(attributes[0].starts_with("flowd_session="), "{set_cookie}");
    let value = attributes[0].trim_start_matches("flowd_session=");
    assert_eq!(value.len(), 43, "256 bits in base64url: {set_cookie}");
    for expected in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(attributes.contains(&expected), "{expected} in {set_cookie}");
    }
    assert!(!attributes.contains(&"Secure"), "plain HTTP: {set_cookie}");
    assert_eq!(reply.body["imsOrgId"], caller.org);
    assert!(
        reply.body["principalId"]
            .as_str()
            .unwrap()
            .ends_with("@AdobeID")
    );
    assert_eq!(reply.body["csrfToken"].as_str().unwrap().len(), 43);
    let expires_at = reply.body["expiresAt"].as_i64().unwrap();
    let lifetime = expires_at - flowd_model::time::now_millis();
    assert!((43_000_000..=43_200_000).contains(&lifetime), "{lifetime}");

    // The session reads back with the cookie, without a new cookie.
    let cookie = cookie_pair(&reply.headers);
    let read = send_as_browser(&app, &cookie, "GET", "/console/session", &[], None).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.body, reply.body);
    assert!(read.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn the_cookie_is_secure_when_a_proxy_says_the_request_came_over_https() {
    let app = TestApp::new().await;
    let reply = sign_in_with(
        &app,
        &credential_body(&app.caller()),
        &[("x-forwarded-proto", "https")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let set_cookie = reply.headers["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.split(';').any(|part| part.trim() == "Secure"),
        "{set_cookie}"
    );
}

#[tokio::test]
async fn a_wrong_access_token_or_api_key_is_refused_with_401_and_no_cookie() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let wrong_token = json!({"apiKey": caller.api_key, "accessToken": "flowd_not-a-token"});
    let reply = sign_in_with(&app, &wrong_token, &[]).await;
    assert_gateway_error(&reply, 401, "401013");
    assert!(reply.headers.get("set-cookie").is_none());
    let wrong_key = json!({"apiKey": "0123456789abcdef", "accessToken": caller.token});
    let reply = sign_in_with(&app, &wrong_key, &[]).await;
    assert_gateway_error(&reply, 401, "401003");
    assert!(reply.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn signing_in_needs_a_json_body_with_both_fields() {
    let app = TestApp::new().await;
    let caller = app.caller();
    // A cross-site HTML form can only post form encodings: refused before any check.
    let form = Request::builder()
        .method("POST")
        .uri("/console/session")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "apiKey={}&accessToken={}",
            caller.api_key, caller.token
        )))
        .unwrap();
    let reply = app.raw(form).await;
    assert_flow_error(&reply, "1100-400");
    assert!(reply.headers.get("set-cookie").is_none());
    let reply = sign_in_with(&app, &json!({"apiKey": caller.api_key}), &[]).await;
    assert_flow_error(&reply, "1100-400");
    assert_eq!(reply.body["problems"][0]["pointer"], "/accessToken");
}

#[tokio::test]
async fn a_session_cookie_lists_the_resources_of_the_sandbox_it_names() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let spec_id = app
        .create_connection_spec(&caller, &fixture("mailchimp_members_create.json"))
        .await;
    let browser = sign_in(&app, &caller).await;
    let uri = format!("{BASE}/connectionSpecs");
    let listed = send_as_browser(
        &app,
        &browser.cookie,
        "GET",
        &uri,
        &[("x-sandbox-name", "prod")],
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(item_ids(&listed).contains(&spec_id));
    // The sandbox is still the request's to name.
    let no_sandbox = send_as_browser(&app, &browser.cookie, "GET", &uri, &[], None).await;
    assert_flow_error(&no_sandbox, "2105-400");
}

#[tokio::test]
async fn a_cookie_authenticated_write_needs_the_session_csrf_token() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let browser = sign_in(&app, &caller).await;
    let before = connection_spec_count(&app, &caller).await;
    let uri = format!("{BASE}/connectionSpecs");
    let spec = fixture("mailchimp_members_create.json");
    let sandbox = ("x-sandbox-name", "prod");

    let without =
        send_as_browser(&app, &browser.cookie, "POST", &uri, &[sandbox], Some(&spec)).await;
    assert_gateway_error(&without, 403, "403020");
    assert!(
        without.body["message"]
            .as_str()
            .unwrap()
            .contains("CSRF token is missing or wrong")
    );
    let wrong_token = browser.csrf_token.chars().rev().collect::<String>();
    let wrong = send_as_browser(
        &app,
        &browser.cookie,
        "POST",
        &uri,
        &[sandbox, ("x-csrf-token", &wrong_token)],
        Some(&spec),
    )
    .await;
    assert_gateway_error(&wrong, 403, "403020");
    assert_eq!(
        connection_spec_count(&app, &caller).await,
        before,
        "nothing stored"
    );

    let right = send_as_browser(
        &app,
        &browser.cookie,
        "POST",
        &uri,
        &[sandbox, ("x-csrf-token", &browser.csrf_token)],
        Some(&spec),
    )
    .await;
    assert_eq!(right.status, StatusCode::CREATED, "{}", right.body);
    assert_eq!(
        right.body["createdClient"], caller.api_key,
        "{}",
        right.body
    );
    assert_eq!(connection_spec_count(&app, &caller).await, before + 1);

    // A search (a POST that changes nothing) is held to the same rule.
    let search_uri = format!("{BASE}/flowSpecs/search");
    let search = send_as_browser(
        &app,
        &browser.cookie,
        "POST",
        &search_uri,
        &[sandbox],
        Some(&json!({})),
    )
    .await;
    assert_gateway_error(&search, 403, "403020");
}

#[tokio::test]
async fn an_authorization_header_wins_over_the_cookie() {
    let app = TestApp::new().await;
    let browser = sign_in(&app, &app.caller()).await;
    let other = app.caller_for_new_org("ORG2@AdobeOrg").await;
    let spec_of_other = app
        .create_connection_spec(&other, &fixture("mailchimp_members_create.json"))
        .await;
    // Org 2's headers with org 1's cookie: org 2's request, and no CSRF token asked.
    let request = Request::builder()
        .method("POST")
        .uri(format!("{BASE}/connectionSpecs"))
        .header("cookie", &browser.cookie)
        .header("authorization", format!("Bearer {}", other.token))
        .header("x-api-key", &other.api_key)
        .header("x-gw-ims-org-id", &other.org)
        .header("x-sandbox-name", "prod")
        .header("content-type", "application/json")
        .body(Body::from(
            fixture("mailchimp_members_create.json").to_string(),
        ))
        .unwrap();
    let created = app.raw(request).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let ids = item_ids(&app.get(&other, "/connectionSpecs").await);
    assert!(ids.contains(&spec_of_other));
    assert!(ids.contains(&created.body["id"].as_str().unwrap().to_owned()));
}

#[tokio::test]
async fn a_session_of_one_org_never_sees_another_orgs_resources() {
    let app = TestApp::new().await;
    let browser = sign_in(&app, &app.caller()).await;
    let other = app.caller_for_new_org("ORG2@AdobeOrg").await;
    let spec_of_other = app
        .create_connection_spec(&other, &fixture("mailchimp_members_create.json"))
        .await;
    let sandbox = ("x-sandbox-name", "prod");
    let list_uri = format!("{BASE}/connectionSpecs");
    let listed = send_as_browser(&app, &browser.cookie, "GET", &list_uri, &[sandbox], None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert!(!item_ids(&listed).contains(&spec_of_other));
    let read_uri = format!("{BASE}/connectionSpecs/{spec_of_other}");
    let read = send_as_browser(&app, &browser.cookie, "GET", &read_uri, &[sandbox], None).await;
    assert_flow_error(&read, "1439-404");
    // Naming the other org in the header does not move the session there.
    let claimed = send_as_browser(
        &app,
        &browser.cookie,
        "GET",
        &read_uri,
        &[sandbox, ("x-gw-ims-org-id", &other.org)],
        None,
    )
    .await;
    assert_gateway_error(&claimed, 403, "403025");
    // Naming its own org is fine.
    let own = send_as_browser(
        &app,
        &browser.cookie,
        "GET",
        &list_uri,
        &[sandbox, ("x-gw-ims-org-id", &app.caller().org)],
        None,
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

#[tokio::test]
async fn after_signing_out_the_same_cookie_is_refused() {
    let app = TestApp::new().await;
    let browser = sign_in(&app, &app.caller()).await;
    let without_token = send_as_browser(
        &app,
        &browser.cookie,
        "DELETE",
        "/console/session",
        &[],
        None,
    )
    .await;
    assert_gateway_error(&without_token, 403, "403020");
    let signed_out = send_as_browser(
        &app,
        &browser.cookie,
        "DELETE",
        "/console/session",
        &[("x-csrf-token", &browser.csrf_token)],
        None,
    )
    .await;
    assert_eq!(signed_out.status, StatusCode::NO_CONTENT);
    let cleared = signed_out.headers["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("flowd_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let read = send_as_browser(&app, &browser.cookie, "GET", "/console/session", &[], None).await;
    assert_gateway_error(&read, 401, "401020");
    let listed = send_as_browser(
        &app,
        &browser.cookie,
        "GET",
        &format!("{BASE}/connectionSpecs"),
        &[("x-sandbox-name", "prod")],
        None,
    )
    .await;
    assert_gateway_error(&listed, 401, "401020");
}

#[tokio::test]
async fn signing_in_again_ends_the_session_the_browser_had() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let first = sign_in(&app, &caller).await;
    let again = sign_in_with(
        &app,
        &credential_body(&caller),
        &[("cookie", first.cookie.as_str())],
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let second = cookie_pair(&again.headers);
    assert_ne!(second, first.cookie);
    let old = send_as_browser(&app, &first.cookie, "GET", "/console/session", &[], None).await;
    assert_gateway_error(&old, 401, "401020");
    let new = send_as_browser(&app, &second, "GET", "/console/session", &[], None).await;
    assert_eq!(new.status, StatusCode::OK, "{}", new.body);
}

#[tokio::test]
async fn an_expired_or_unknown_session_is_refused() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let signed_in = sign_in_with(&app, &credential_body(&caller), &[]).await;
    let principal_id = signed_in.body["principalId"].as_str().unwrap().to_owned();
    let cookie_value = "A".repeat(43);
    let now = flowd_model::time::now_millis();
    app.store
        .insert_session(&Session {
            id_hash: token_hash(&cookie_value),
            credential_id: principal_id,
            org_id: caller.org.clone(),
            api_key: caller.api_key.clone(),
            csrf_token: "csrf".into(),
            created_at: now - 13 * 3_600_000,
            expires_at: now - 3_600_000,
        })
        .await
        .unwrap();
    for cookie in [
        format!("flowd_session={cookie_value}"),
        format!("flowd_session={}", "B".repeat(43)),
        "flowd_session=junk".to_owned(),
    ] {
        let read = send_as_browser(&app, &cookie, "GET", "/console/session", &[], None).await;
        assert_gateway_error(&read, 401, "401020");
        let listed = send_as_browser(
            &app,
            &cookie,
            "GET",
            &format!("{BASE}/connectionSpecs"),
            &[("x-sandbox-name", "prod")],
            None,
        )
        .await;
        assert_gateway_error(&listed, 401, "401020");
    }
    // No cookie at all: the session read is a 401, an API route keeps AEP's refusal.
    let none = app
        .raw(
            Request::get("/console/session")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_gateway_error(&none, 401, "401020");
}

#[tokio::test]
async fn the_sandbox_list_holds_only_the_callers_org() {
    let app = TestApp::new().await;
    let caller = app.caller();
    let mut dev = caller.clone();
    dev.sandbox = "dev".into();
    app.get(&caller, "/connectionSpecs").await;
    app.get(&dev, "/connectionSpecs").await;
    let mut other = app.caller_for_new_org("ORG2@AdobeOrg").await;
    other.sandbox = "staging".into();
    app.get(&other, "/connectionSpecs").await;

    let browser = sign_in(&app, &caller).await;
    let listed = send_as_browser(
        &app,
        &browser.cookie,
        "GET",
        "/console/sandboxes",
        &[],
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(
        listed.body,
        json!({"items": [{"name": "dev"}, {"name": "prod"}]})
    );
    // With the headers instead of the cookie, no x-sandbox-name needed.
    let request = Request::get("/console/sandboxes")
        .header("authorization", format!("Bearer {}", other.token))
        .header("x-api-key", &other.api_key)
        .header("x-gw-ims-org-id", &other.org)
        .body(Body::empty())
        .unwrap();
    let listed = app.raw(request).await;
    assert_eq!(listed.body, json!({"items": [{"name": "staging"}]}));
}

/// A response whose body is not JSON: status, headers and bytes.
async fn raw_bytes(app: &TestApp, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes.to_vec())
}

#[tokio::test]
async fn the_root_answers_the_console_page_with_a_strict_content_security_policy() {
    let app = TestApp::new().await;
    let (status, headers, body) =
        raw_bytes(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(
        headers["content-security-policy"],
        flowd_api::console::CONTENT_SECURITY_POLICY_VALUE
    );
    let policy = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(policy.contains(directive), "{policy}");
    }
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["cache-control"], "no-cache");
    let page = String::from_utf8(body).unwrap();
    assert!(page.to_ascii_lowercase().contains("<html"), "{page}");
    // Unchanged since the browser's copy: a 304 without the page.
    let etag = headers["etag"].clone();
    let request = Request::get("/")
        .header("if-none-match", etag)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = raw_bytes(&app, request).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
}

#[tokio::test]
async fn console_files_are_served_by_path_and_an_unknown_one_is_a_json_404() {
    let app = TestApp::new().await;
    let (status, headers, _) = raw_bytes(
        &app,
        Request::get("/console/assets/index.html")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let reply = app
        .raw(
            Request::get("/console/assets/no-such-file.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_flow_error(&reply, "1101-404");
    let reply = app
        .raw(
            Request::get("/console/assets/../Cargo.toml")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
}
