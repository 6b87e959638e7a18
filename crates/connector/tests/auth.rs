//! Each auth type against the mock API: the credentials on every request,
//! OAuth2 refreshes (before the first request when `expirationDate` has
//! passed, once after a 401, with a rotating refresh token handed to the
//! callback), and a failed refresh ending the run with one clear error.

mod common;

use base64::Engine as _;
use common::*;
use flowd_connector::auth::AuthError;
use flowd_connector::{FetchError, RunError};
use flowd_mockapi::{Auth, FailFirst, Faults, MockApi, OAuthOptions, RecordedRequest, Scenario};
use serde_json::{Value, json};

fn offset_spec(mock: &MockApi) -> Value {
    connection_spec(attributes(
        &mock.base_url(),
        "/offset",
        "$.items",
        json!({"type": "OFFSET", "limitName": "limit", "limitValue": 10, "offSetName": "offset"}),
    ))
}

fn authorizations(requests: &[RecordedRequest]) -> Vec<(String, Option<String>)> {
    requests
        .iter()
        .map(|request| {
            (
                format!("{} {}", request.method, request.path_and_query()),
                request.header("authorization").map(str::to_owned),
            )
        })
        .collect()
}

fn data_requests(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests
        .iter()
        .filter(|request| request.path != "/oauth/token")
        .collect()
}

fn token_requests(requests: &[RecordedRequest]) -> Vec<&RecordedRequest> {
    requests
        .iter()
        .filter(|request| request.path == "/oauth/token")
        .collect()
}

#[tokio::test]
async fn basic_auth_sends_the_authorization_header_on_every_page() {
    let mock = MockApi::start(Scenario::generated(15).with_auth(Auth::Basic {
        username: "anna".to_owned(),
        password: "open: sesame".to_owned(),
    }))
    .await;
    let spec = offset_spec(&mock);
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        json!({"specName": "Basic Authentication", "params": {"username": "anna", "password": "open: sesame"}}),
        None,
    ));
    let (pages, _) = collect(client(), plan).await;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("anna:open: sesame")
    );
    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.header("authorization"), Some(expected.as_str()));
    }
    assert_eq!(records(&pages), generated(0..15));
    // The page summaries show the request without the credentials.
    for page in &pages {
        assert!(!format!("{page:?}").contains("sesame"));
    }
}

#[tokio::test]
async fn basic_auth_refused_fails_at_once_with_the_status() {
    let mock = MockApi::start(Scenario::generated(15).with_auth(Auth::Basic {
        username: "anna".to_owned(),
        password: "right".to_owned(),
    }))
    .await;
    let spec = offset_spec(&mock);
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        json!({"specName": "basic authentication", "params": {"username": "anna", "password": "wrong-password"}}),
        None,
    ));
    let (pages, error) = collect_error(client(), plan).await;
    assert!(pages.is_empty());
    assert_eq!(mock.request_count(), 1, "a 401 is not retried");
    assert!(
        matches!(&error, RunError::Fetch { page: 0, error: source } if source.status() == Some(401)),
        "{error:?}"
    );
}

#[tokio::test]
async fn key_based_auth_sends_each_key_in_the_header_its_schema_names() {
    let mock = MockApi::start(Scenario::generated(5).with_auth(Auth::ApiKeys(vec![
        ("x-api-key".to_owned(), "key-one-1111".to_owned()),
        ("x-api-secret".to_owned(), "key-two-2222".to_owned()),
    ])))
    .await;
    let spec = offset_spec(&mock);
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        json!({"specName": "API Key", "params": {"authKey1": "key-one-1111", "authKey2": "key-two-2222"}}),
        None,
    ));
    let (pages, _) = collect(client(), plan).await;
    let requests = mock.requests();
    assert_eq!(
        requests.len(),
        2,
        "the short first page, then the empty one"
    );
    for request in &requests {
        assert_eq!(request.header("x-api-key"), Some("key-one-1111"));
        assert_eq!(request.header("x-api-secret"), Some("key-two-2222"));
        assert_eq!(request.header("authorization"), None);
    }
    assert_eq!(records(&pages), generated(0..5));
}

fn oauth_params(mock: &MockApi, refresh_token: &str, expiration: Option<&str>) -> Value {
    let mut params = json!({
        "accessToken": "initial-access-token",
        "refreshToken": refresh_token,
        "accessTokenUrl": mock.url("/oauth/token"),
        "clientId": "client-id",
        "clientSecret": "client-secret"
    });
    if let Some(expiration) = expiration {
        params["expirationDate"] = json!(expiration);
    }
    json!({"specName": "OAuth2 Refresh Code", "params": params})
}

fn expired_oauth_scenario(records: usize) -> Scenario {
    Scenario::generated(records).with_oauth(OAuthOptions {
        start_expired: true,
        ..OAuthOptions::default()
    })
}

#[tokio::test]
async fn oauth2_refreshes_an_expired_token_before_the_first_request() {
    let mock = MockApi::start(expired_oauth_scenario(15)).await;
    let spec = offset_spec(&mock);
    let (callback, received) = token_recorder();
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        oauth_params(&mock, "initial-refresh-token", Some("2020-01-01T00:00:00Z")),
        Some(callback),
    ));
    let (pages, _) = collect(client(), plan).await;
    let requests = mock.requests();
    assert_eq!(
        authorizations(&requests),
        [
            ("POST /oauth/token".to_owned(), None),
            (
                "GET /offset?limit=10&offset=0".to_owned(),
                Some("Bearer access-1".to_owned())
            ),
            (
                "GET /offset?limit=10&offset=10".to_owned(),
                Some("Bearer access-1".to_owned())
            ),
        ]
    );
    assert_eq!(
        requests[0].form_body(),
        [
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            (
                "refresh_token".to_owned(),
                "initial-refresh-token".to_owned()
            ),
            ("client_id".to_owned(), "client-id".to_owned()),
            ("client_secret".to_owned(), "client-secret".to_owned()),
        ]
    );
    assert_eq!(records(&pages), generated(0..15));
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].access_token.expose(), "access-1");
    assert_eq!(
        received[0]
            .refresh_token
            .as_ref()
            .map(|token| token.expose()),
        Some("refresh-1")
    );
    let expiration = received[0].expiration.expect("expires_in gives an expiry");
    let in_an_hour = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3600);
    assert!(
        in_an_hour.duration_since(expiration).as_secs().abs() < 60,
        "{expiration}"
    );
}

#[tokio::test]
async fn oauth2_refreshes_once_after_a_401_and_keeps_the_rotated_refresh_token() {
    let mock = MockApi::start(expired_oauth_scenario(15)).await;
    let spec = offset_spec(&mock);
    let (callback, received) = token_recorder();
    let session = auth_session(
        &spec,
        oauth_params(&mock, "initial-refresh-token", None),
        Some(callback),
    );
    let mut plan = plan(&spec);
    plan.auth = Some(session.clone());
    let (pages, _) = collect(client(), plan.clone()).await;
    let requests = mock.requests();
    assert_eq!(
        authorizations(&requests),
        [
            (
                "GET /offset?limit=10&offset=0".to_owned(),
                Some("Bearer initial-access-token".to_owned())
            ),
            ("POST /oauth/token".to_owned(), None),
            (
                "GET /offset?limit=10&offset=0".to_owned(),
                Some("Bearer access-1".to_owned())
            ),
            (
                "GET /offset?limit=10&offset=10".to_owned(),
                Some("Bearer access-1".to_owned())
            ),
        ]
    );
    assert_eq!(
        requests[1].form_body()[1],
        (
            "refresh_token".to_owned(),
            "initial-refresh-token".to_owned()
        )
    );
    assert_eq!(records(&pages), generated(0..15));
    assert_eq!(pages[0].attempts, 2, "the 401 counts as an attempt");

    // The token expires mid-use: the next refresh must use the rotated
    // refresh token (the old one is no longer accepted).
    mock.expire_access_token();
    mock.clear_requests();
    let (pages, _) = collect(client(), plan).await;
    assert_eq!(records(&pages), generated(0..15));
    let requests = mock.requests();
    let tokens = token_requests(&requests);
    assert_eq!(tokens.len(), 1);
    assert_eq!(
        tokens[0].form_body()[1],
        ("refresh_token".to_owned(), "refresh-1".to_owned())
    );
    assert_eq!(mock.token_refreshes(), 2);

    let received = received.lock().unwrap();
    let pairs: Vec<(&str, Option<&str>)> = received
        .iter()
        .map(|tokens| {
            (
                tokens.access_token.expose(),
                tokens.refresh_token.as_ref().map(|token| token.expose()),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            ("access-1", Some("refresh-1")),
            ("access-2", Some("refresh-2"))
        ]
    );
}

#[tokio::test]
async fn oauth2_without_rotation_keeps_the_refresh_token_it_has() {
    let mock = MockApi::start(Scenario::generated(5).with_oauth(OAuthOptions {
        start_expired: true,
        rotate_refresh_token: false,
        ..OAuthOptions::default()
    }))
    .await;
    let spec = offset_spec(&mock);
    let (callback, received) = token_recorder();
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        oauth_params(&mock, "initial-refresh-token", None),
        Some(callback),
    ));
    let (pages, _) = collect(client(), plan).await;
    assert_eq!(records(&pages), generated(0..5));
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0]
            .refresh_token
            .as_ref()
            .map(|token| token.expose()),
        Some("initial-refresh-token")
    );
}

#[tokio::test]
async fn oauth2_a_failed_refresh_after_a_401_is_one_auth_error_not_a_retry_storm() {
    let mock = MockApi::start(expired_oauth_scenario(15)).await;
    let spec = offset_spec(&mock);
    let (callback, received) = token_recorder();
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        oauth_params(&mock, "revoked-refresh-token", None),
        Some(callback),
    ));
    let (pages, error) = collect_error(client(), plan).await;
    assert!(pages.is_empty());
    let requests = mock.requests();
    assert_eq!(token_requests(&requests).len(), 1, "one refresh attempt");
    assert_eq!(data_requests(&requests).len(), 1, "no retry of the page");
    match &error {
        RunError::Fetch {
            page: 0,
            error: FetchError::Auth(AuthError::RefreshFailed { url, reason }),
        } => {
            assert_eq!(url, &mock.url("/oauth/token"));
            assert!(reason.contains("400"), "{reason}");
            assert!(reason.contains("invalid_grant"), "{reason}");
        }
        other => panic!("expected a refresh failure, got {other:?}"),
    }
    let shown = format!("{error} {error:?}");
    for secret in [
        "revoked-refresh-token",
        "client-secret",
        "initial-access-token",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(received.lock().unwrap().is_empty());
}

#[tokio::test]
async fn oauth2_a_failed_refresh_of_an_expired_token_sends_no_data_request() {
    let mock = MockApi::start(expired_oauth_scenario(15)).await;
    let spec = offset_spec(&mock);
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        oauth_params(&mock, "revoked-refresh-token", Some("2020-01-01")),
        None,
    ));
    let (_, error) = collect_error(client(), plan).await;
    let requests = mock.requests();
    assert_eq!(token_requests(&requests).len(), 1, "one refresh attempt");
    assert_eq!(data_requests(&requests).len(), 0);
    assert!(
        matches!(
            &error,
            RunError::Fetch {
                error: FetchError::Auth(AuthError::RefreshFailed { .. }),
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn oauth2_a_second_401_after_a_refresh_fails_instead_of_looping() {
    // The endpoint mints tokens the data routes never accept: Basic auth is
    // what they want, so every bearer request gets 401.
    let mut scenario = Scenario::generated(5).with_auth(Auth::Basic {
        username: "u".to_owned(),
        password: "p".to_owned(),
    });
    scenario.oauth.start_expired = true;
    let mock = MockApi::start(scenario).await;
    let spec = offset_spec(&mock);
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        oauth_params(&mock, "initial-refresh-token", None),
        None,
    ));
    let (_, error) = collect_error(client(), plan).await;
    let requests = mock.requests();
    assert_eq!(token_requests(&requests).len(), 1);
    assert_eq!(data_requests(&requests).len(), 2);
    assert!(
        matches!(&error, RunError::Fetch { error: source, .. } if source.status() == Some(401)),
        "{error:?}"
    );
}

#[tokio::test]
async fn oauth2_without_a_refresh_token_reports_that_it_cannot_refresh() {
    let mock = MockApi::start(expired_oauth_scenario(5)).await;
    let spec = offset_spec(&mock);
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(
        &spec,
        json!({"specName": "OAuth2RefreshCode", "params": {"accessToken": "initial-access-token"}}),
        None,
    ));
    let (_, error) = collect_error(client(), plan).await;
    assert_eq!(mock.request_count(), 1);
    assert!(
        matches!(
            &error,
            RunError::Fetch {
                error: FetchError::Auth(AuthError::RefreshUnavailable { .. }),
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn oauth2_concurrent_401s_cause_one_refresh() {
    let mock = MockApi::start(expired_oauth_scenario(95)).await;
    let spec = offset_spec(&mock);
    let (callback, received) = token_recorder();
    let mut plan = plan(&spec);
    plan.limits.concurrency = 4;
    plan.auth = Some(auth_session(
        &spec,
        oauth_params(&mock, "initial-refresh-token", None),
        Some(callback),
    ));
    let (pages, _) = collect(client(), plan).await;
    assert_eq!(records(&pages), generated(0..95));
    assert_eq!(token_requests(&mock.requests()).len(), 1);
    assert_eq!(received.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn oauth2_a_failed_refresh_is_attempted_once_even_with_concurrent_requests() {
    // The first data request gets a 503 and is retried, so the 401s of the
    // later pages arrive first and page 0 asks for a refresh last.
    let mock = MockApi::start(Scenario {
        faults: Faults {
            fail_first: Some(FailFirst {
                count: 1,
                status: 503,
                retry_after: None,
            }),
            ..Faults::default()
        },
        ..expired_oauth_scenario(95)
    })
    .await;
    let spec = offset_spec(&mock);
    for expiration in [None, Some("2020-01-01T00:00:00Z")] {
        mock.clear_requests();
        let mut plan = plan(&spec);
        plan.limits.concurrency = 4;
        plan.auth = Some(auth_session(
            &spec,
            oauth_params(&mock, "revoked-refresh-token", expiration),
            None,
        ));
        let (_, error) = collect_error(client(), plan).await;
        assert!(
            matches!(
                &error,
                RunError::Fetch {
                    error: FetchError::Auth(AuthError::RefreshFailed { .. }),
                    ..
                }
            ),
            "{error:?}"
        );
        // Let requests already in flight land before counting.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(
            token_requests(&mock.requests()).len(),
            1,
            "expiration {expiration:?}: {:#?}",
            authorizations(&mock.requests())
        );
    }
}

#[tokio::test]
async fn oauth2_request_parameter_overrides_rename_the_token_exchange() {
    let mock = MockApi::start(Scenario::generated(5).with_oauth(OAuthOptions {
        start_expired: true,
        client_id_param: "app_id".to_owned(),
        client_secret_param: "app_secret".to_owned(),
        fields: flowd_mockapi::TokenFields {
            access_token: "token".to_owned(),
            refresh_token: "renewal".to_owned(),
            expires_in: "ttl".to_owned(),
        },
        ..OAuthOptions::default()
    }))
    .await;
    let spec = offset_spec(&mock);
    let mut connection_auth = oauth_params(&mock, "initial-refresh-token", None);
    connection_auth["params"]["requestParameterOverride"] = json!({
        "authenticationMethod": "GET",
        "clientId": "app_id",
        "clientSecret": "app_secret",
        "accessTokenField": "token",
        "refreshTokenField": "renewal",
        "expireInField": "ttl"
    });
    let (callback, received) = token_recorder();
    let mut plan = plan(&spec);
    plan.auth = Some(auth_session(&spec, connection_auth, Some(callback)));
    let (pages, _) = collect(client(), plan).await;
    assert_eq!(records(&pages), generated(0..5));
    let requests = mock.requests();
    let tokens = token_requests(&requests);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].method, "GET");
    assert_eq!(
        tokens[0].query_pairs,
        [
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            (
                "refresh_token".to_owned(),
                "initial-refresh-token".to_owned()
            ),
            ("app_id".to_owned(), "client-id".to_owned()),
            ("app_secret".to_owned(), "client-secret".to_owned()),
        ]
    );
    let received = received.lock().unwrap();
    assert_eq!(received[0].access_token.expose(), "access-1");
    assert_eq!(
        received[0]
            .refresh_token
            .as_ref()
            .map(|token| token.expose()),
        Some("refresh-1")
    );
    assert!(received[0].expiration.is_some());
}

/// An upstream that echoes the Authorization header into its error body, the credential at
/// every offset around where the snippet is cut: an error status (the fetch error's snippet)
/// and a 200 that is not JSON (the invalid-response snippet). No piece of the credential — the
/// password or its base64 form — shows in the error, whichever side of the cut it straddles.
#[tokio::test]
async fn a_credential_echoed_around_the_snippet_cut_never_shows_in_the_error() {
    let mock = MockApi::start(Scenario::generated(1)).await;
    let password = "Qz7-vK9w-Jp4m-Tr8d-Hb2n";
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("anna:{password}"));
    let echoed = format!("Basic {encoded}");
    let mut checked = 0;
    for (status, cut) in [(400, 300), (200, 200)] {
        for pad in cut - echoed.len() - 2..cut + 2 {
            let spec = connection_spec(attributes(
                &mock.base_url(),
                &format!("/echo?status={status}&pad={pad}"),
                "$.items",
                Value::Null,
            ));
            let mut plan = plan(&spec);
            plan.auth = Some(auth_session(
                &spec,
                json!({"specName": "Basic Authentication",
                       "params": {"username": "anna", "password": password}}),
                None,
            ));
            let (_, error) = collect_error(client(), plan).await;
            let shown = format!("{error} {error:?}");
            assert!(shown.contains("xxxx"), "the snippet is kept: {shown}");
            for secret in [password, encoded.as_str()] {
                for start in 0..=secret.len() - 4 {
                    let piece = &secret[start..start + 4];
                    assert!(
                        !shown.contains(piece),
                        "status {status}, pad {pad}: {piece:?} shows in {shown}"
                    );
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * (echoed.len() + 4));
}

/// Tokens kept where two sessions (two processes) can both reach them.
#[derive(Default)]
struct SharedTokens(std::sync::Mutex<Option<flowd_connector::RefreshedTokens>>);

#[async_trait::async_trait]
impl flowd_connector::TokenStore for SharedTokens {
    async fn save(&self, tokens: &flowd_connector::RefreshedTokens) {
        *self.0.lock().unwrap() = Some(tokens.clone());
    }

    async fn load(&self) -> Option<flowd_connector::RefreshedTokens> {
        self.0.lock().unwrap().clone()
    }
}

/// Two sessions built from the same stored tokens, as two processes would: the first rotates
/// the refresh token and saves the new tokens; the second, refused with `invalid_grant` when
/// it refreshes with the old one, reloads the stored tokens once and goes on with them
/// instead of failing its run.
#[tokio::test]
async fn a_refresh_token_rotated_elsewhere_is_reloaded_from_the_store_after_invalid_grant() {
    let mock = MockApi::start(expired_oauth_scenario(15)).await;
    let spec = offset_spec(&mock);
    let store = std::sync::Arc::new(SharedTokens::default());
    let session = || {
        auth_session(
            &spec,
            oauth_params(&mock, "initial-refresh-token", None),
            Some(store.clone()),
        )
    };
    let (first, second) = (session(), session());
    let mut plan_one = plan(&spec);
    plan_one.auth = Some(first);
    let (pages, _) = collect(client(), plan_one).await;
    assert_eq!(records(&pages), generated(0..15));
    assert_eq!(
        mock.refresh_token(),
        "refresh-1",
        "the first session rotated it"
    );

    mock.clear_requests();
    let mut plan_two = plan(&spec);
    plan_two.auth = Some(second);
    let (pages, _) = collect(client(), plan_two).await;
    assert_eq!(records(&pages), generated(0..15));
    let requests = mock.requests();
    let token_requests: Vec<&RecordedRequest> = requests
        .iter()
        .filter(|request| request.path == "/oauth/token")
        .collect();
    assert_eq!(
        token_requests.len(),
        1,
        "one refused refresh, not a second try"
    );
    assert_eq!(
        token_requests[0].form_body()[1].1,
        "initial-refresh-token",
        "the second session still held the rotated-away token"
    );
    assert_eq!(mock.token_refreshes(), 1, "no second rotation");
    let used: Vec<Option<String>> = authorizations(&requests)
        .into_iter()
        .filter(|(line, _)| line.starts_with("GET /offset"))
        .map(|(_, authorization)| authorization)
        .collect();
    assert_eq!(
        used.last().unwrap().as_deref(),
        Some("Bearer access-1"),
        "the stored access token of the first session"
    );
}

/// Runs and previews of one connection share its live OAuth session; a connection whose
/// stored credentials changed (another access token, another client), another connection, or
/// a connection whose session is gone gets a session of its own.
#[tokio::test]
async fn a_connection_shares_one_oauth_session_until_its_credentials_change() {
    let mock = MockApi::start(expired_oauth_scenario(5)).await;
    let spec = offset_spec(&mock);
    let sessions = flowd_connector::AuthSessions::default();
    let params = oauth_params(&mock, "initial-refresh-token", None);
    let session = |params: &Value| auth_session(&spec, params.clone(), None);
    let first = sessions.share("org/prod/c1", session(&params)).await;
    let again = sessions.share("org/prod/c1", session(&params)).await;
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "the live session serves the connection"
    );
    let other = sessions.share("org/prod/c2", session(&params)).await;
    assert!(
        !std::sync::Arc::ptr_eq(&first, &other),
        "another connection, another session"
    );
    let mut new_token = params.clone();
    new_token["params"]["accessToken"] = json!("a-token-the-user-pasted");
    let replaced = sessions.share("org/prod/c1", session(&new_token)).await;
    assert!(
        !std::sync::Arc::ptr_eq(&first, &replaced),
        "the user's new token is used"
    );
    let mut new_client = new_token.clone();
    new_client["params"]["clientId"] = json!("another-client");
    let replaced_again = sessions.share("org/prod/c1", session(&new_client)).await;
    assert!(!std::sync::Arc::ptr_eq(&replaced, &replaced_again));
    drop((first, again, other, replaced, replaced_again));
    let fresh = session(&params);
    let after = sessions.share("org/prod/c1", fresh.clone()).await;
    assert!(
        std::sync::Arc::ptr_eq(&fresh, &after),
        "no live session: the fresh one"
    );
}
