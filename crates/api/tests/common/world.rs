//! A sandbox holding two of every instance resource (one to keep, one to delete), a finished
//! run and a pending one: what the tests that walk every operation or every list need.

use flowd_mockapi::{DEFAULT_LIST_ID, MockApi};
use flowd_model::RunMetrics;
use flowd_store::{RunCompletion, RunStatus};
use serde_json::{Value, json};

use super::chain::{
    REST_STORAGE_TO_AEP, base_connection, create, flow_body, list_spec_in_flow_spec, mock,
    source_body, target_body,
};
use super::{Caller, TestApp};

/// The resources of a [`World`]: the ones operations use, and spares to delete.
pub struct World {
    pub app: TestApp,
    pub caller: Caller,
    /// The mock partner API the connections point at (kept alive with the world).
    pub mock: MockApi,
    pub spec_id: String,
    pub connection_id: String,
    pub source_id: String,
    pub target_id: String,
    pub dataset_id: String,
    pub flow_id: String,
    pub flow_spec_id: String,
    /// A run of `flow_id` that succeeded, over `[0, 600)`.
    pub finished_run_id: String,
    /// A run of `flow_id` still pending, over `[600, 1200)`.
    pub pending_run_id: String,
    pub spare_connection_id: String,
    pub spare_source_id: String,
    pub spare_target_id: String,
    pub spare_flow_id: String,
}

/// `sourceParams` of explore and configs for the world's source: base64 of its params.
pub fn source_params() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(json!({"listId": DEFAULT_LIST_ID}).to_string())
}

impl World {
    pub async fn build() -> World {
        let app = TestApp::new().await;
        let caller = app.caller();
        let mock = mock().await;
        let (spec_id, connection_id) = base_connection(&app, &caller, &mock).await;
        let (_, spare_connection_id) = base_connection(&app, &caller, &mock).await;
        list_spec_in_flow_spec(&app, &caller, &spec_id).await;
        let source = source_body(&spec_id, &connection_id);
        let (source_id, _) = create(&app, &caller, "/sourceConnections", &source).await;
        let (spare_source_id, _) = create(&app, &caller, "/sourceConnections", &source).await;
        let dataset_id = app.create_dataset(&caller, "members").await;
        let target = target_body(&dataset_id);
        let (target_id, _) = create(&app, &caller, "/targetConnections", &target).await;
        let (spare_target_id, _) = create(&app, &caller, "/targetConnections", &target).await;
        let mut flow = flow_body(&source_id, &target_id);
        let (flow_id, _) = create(&app, &caller, "/flows", &flow).await;
        flow["name"] = json!("spare dataflow");
        let (spare_flow_id, _) = create(&app, &caller, "/flows", &flow).await;

        let run = |params: Value| {
            let app = &app;
            let caller = &caller;
            let flow_id = flow_id.clone();
            async move {
                let created = app
                    .post(
                        caller,
                        "/runs",
                        &json!({"flowId": flow_id, "params": params}),
                    )
                    .await;
                assert_eq!(created.status.as_u16(), 201, "{}", created.body);
                created.body["id"].as_str().unwrap().to_owned()
            }
        };
        let finished_run_id = run(json!({"windowStartTime": 0, "windowEndTime": 600})).await;
        // Played worker: the run succeeds.
        let claimed = app
            .store
            .claim_run("test-worker", i64::MAX / 4, 60_000, None)
            .await
            .unwrap()
            .expect("the run is due");
        assert_eq!(claimed.id, finished_run_id);
        let completion = RunCompletion {
            status: RunStatus::Success,
            scheduled_at: claimed.scheduled_at,
            metrics: RunMetrics::default(),
            error: None,
            warnings: Vec::new(),
            batch: None,
        };
        assert!(
            app.store
                .finish_run(&claimed.id, "test-worker", &completion)
                .await
                .unwrap()
        );
        let pending_run_id = run(json!({"windowStartTime": 600, "windowEndTime": 1200})).await;
        // A second flow spec, a copy of the built-in one.
        let mut flow_spec = app
            .get(&caller, &format!("/flowSpecs/{REST_STORAGE_TO_AEP}"))
            .await
            .body["items"][0]
            .clone();
        flow_spec.as_object_mut().unwrap().shift_remove("id");
        flow_spec["name"] = json!("Another RestStorageToAEP");
        let created = app.post(&caller, "/flowSpecs", &flow_spec).await;
        assert_eq!(created.status.as_u16(), 201, "{}", created.body);
        World {
            app,
            caller,
            mock,
            spec_id,
            connection_id,
            source_id,
            target_id,
            dataset_id,
            flow_id,
            flow_spec_id: REST_STORAGE_TO_AEP.to_owned(),
            finished_run_id,
            pending_run_id,
            spare_connection_id,
            spare_source_id,
            spare_target_id,
            spare_flow_id,
        }
    }

    /// The current etag of the resource at `path` (`{"items": [x]}`).
    pub async fn etag(&self, path: &str) -> String {
        let read = self.app.get(&self.caller, path).await;
        read.body["items"][0]["etag"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: {}", read.body))
            .to_owned()
    }
}
