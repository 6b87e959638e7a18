//! In-process harness: the real router over a real SQLite store in a
//! temporary directory, driven with `oneshot` requests.

#![allow(dead_code)]

pub mod chain;
pub mod worker;
pub mod world;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use flowd_api::{ApiConfig, AppState, IssuedCredential, app, issue_credential};
use flowd_secrets::{Cipher, SecretKey};
use flowd_store::{SqliteStore, Store};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const BASE: &str = "/data/foundation/flowservice";

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect(&path)).expect(&path)
}

pub struct TestApp {
    pub router: Router,
    pub store: Arc<dyn Store>,
    pub credential: IssuedCredential,
    pub data_dir: tempfile::TempDir,
}

/// Who sends a request: a credential plus the org and sandbox headers.
#[derive(Clone)]
pub struct Caller {
    pub token: String,
    pub api_key: String,
    pub org: String,
    pub sandbox: String,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::with_config(ApiConfig::default()).await
    }

    pub async fn with_config(config: ApiConfig) -> TestApp {
        let data_dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_in_data_dir(data_dir.path())
                .await
                .unwrap(),
        );
        let credential = issue_credential(store.as_ref(), "ORG1@AdobeOrg")
            .await
            .unwrap();
        let cipher = Cipher::new(SecretKey::from_bytes([7; 32]));
        let router = app(AppState::new(store.clone(), config, cipher));
        TestApp {
            router,
            store,
            credential,
            data_dir,
        }
    }

    pub fn caller(&self) -> Caller {
        Caller {
            token: self.credential.access_token.clone(),
            api_key: self.credential.api_key.clone(),
            org: self.credential.ims_org_id.clone(),
            sandbox: "prod".into(),
        }
    }

    pub async fn caller_for_new_org(&self, org: &str) -> Caller {
        let credential = issue_credential(self.store.as_ref(), org).await.unwrap();
        Caller {
            token: credential.access_token,
            api_key: credential.api_key,
            org: credential.ims_org_id,
            sandbox: "prod".into(),
        }
    }

    /// Sends a request as `caller` (JSON body when given).
    pub async fn send(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        self.send_under(BASE, caller, method, path, body).await
    }

    /// Sends a request as `caller` to `path` under the service base path `base`.
    pub async fn send_under(
        &self,
        base: &str,
        caller: &Caller,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{base}{path}"))
            .header("authorization", format!("Bearer {}", caller.token))
            .header("x-api-key", &caller.api_key)
            .header("x-gw-ims-org-id", &caller.org)
            .header("x-sandbox-name", &caller.sandbox);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let body = body
            .map(|value| Body::from(value.to_string()))
            .unwrap_or_default();
        self.raw(request.body(body).unwrap()).await
    }

    pub async fn raw(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("response is not JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, caller: &Caller, path: &str) -> Reply {
        self.send(caller, "GET", path, None).await
    }

    pub async fn post(&self, caller: &Caller, path: &str, body: &Value) -> Reply {
        self.send(caller, "POST", path, Some(body)).await
    }

    pub async fn put(&self, caller: &Caller, path: &str, body: &Value) -> Reply {
        self.send(caller, "PUT", path, Some(body)).await
    }

    /// Sends a PATCH with an optional If-Match header.
    pub async fn patch(
        &self,
        caller: &Caller,
        path: &str,
        if_match: Option<&str>,
        body: &Value,
    ) -> Reply {
        let mut request = Request::builder()
            .method("PATCH")
            .uri(format!("{BASE}{path}"))
            .header("authorization", format!("Bearer {}", caller.token))
            .header("x-api-key", &caller.api_key)
            .header("x-gw-ims-org-id", &caller.org)
            .header("x-sandbox-name", &caller.sandbox)
            .header("content-type", "application/json");
        if let Some(etag) = if_match {
            request = request.header("if-match", etag);
        }
        self.raw(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    pub async fn delete(&self, caller: &Caller, path: &str) -> Reply {
        self.send(caller, "DELETE", path, None).await
    }

    /// Creates a connection spec and returns its id.
    pub async fn create_connection_spec(&self, caller: &Caller, body: &Value) -> String {
        let reply = self.post(caller, "/connectionSpecs", body).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }
}

/// The Flow Service error `type` URI for a code.
pub fn flow_type(code: &str) -> String {
    format!("https://ns.adobe.com/aep/errors/FLOW-{code}")
}

/// Asserts a Flow Service error body with that code (e.g. `1439-404`).
pub fn assert_flow_error(reply: &Reply, code: &str) {
    let status: u16 = code.rsplit('-').next().unwrap().parse().unwrap();
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.body["type"], flow_type(code), "{}", reply.body);
    assert_eq!(reply.body["status"], status, "{}", reply.body);
    assert!(reply.body["title"].is_string(), "{}", reply.body);
    assert!(
        reply.body["report"]["detailed-message"].is_string(),
        "{}",
        reply.body
    );
    assert!(
        reply.body["report"]["request-id"].is_string(),
        "{}",
        reply.body
    );
}

/// The Catalog service's base path (datasets).
pub const CATALOG_BASE: &str = "/data/foundation/catalog";

impl TestApp {
    /// Sends a request under the Catalog base path as `caller`.
    pub async fn catalog(
        &self,
        caller: &Caller,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        self.send_under(CATALOG_BASE, caller, method, path, body)
            .await
    }

    /// Creates a dataset and returns its id.
    pub async fn create_dataset(&self, caller: &Caller, name: &str) -> String {
        let body = serde_json::json!({
            "name": name,
            "schemaRef": {
                "id": "https://ns.adobe.com/tenant/schemas/0123456789abcdef",
                "contentType": "application/vnd.adobe.xed-full+json;version=1"
            }
        });
        let reply = self.catalog(caller, "POST", "/dataSets", Some(&body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body[0]
            .as_str()
            .and_then(|reference| reference.strip_prefix("@/dataSets/"))
            .expect("[\"@/dataSets/<id>\"]")
            .to_owned()
    }
}
