//! Scheduled runs executed in-process against a real store, a real dataset directory and the
//! mock API: an OAuth token refreshed during the run is saved back to the connection, sealed;
//! a run whose dataset no longer exists fails clearly and writes nothing.

use std::sync::Arc;
use std::time::Duration;

use flowd_connector::{HttpClient, HttpOptions};
use flowd_mockapi::{Auth, MockApi, OAuthOptions, Scenario};
use flowd_model::{ResourceKind, ResourceRef, RunTrigger};
use flowd_scheduler::executor::{RunBounds, RunContext};
use flowd_scheduler::worker::{WorkerOptions, process};
use flowd_secrets::{Cipher, SecretKey};
use flowd_sink::{DatasetStore, LocalDatasets};
use flowd_store::{NewRun, ResourceWrite, RunStatus, Scope, SqliteStore, Store};
use serde_json::{Map, Value, json};

const SPEC: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const CONNECTION: &str = "aaaaaaaa-0000-4000-8000-000000000002";
const SOURCE: &str = "aaaaaaaa-0000-4000-8000-000000000003";
const TARGET: &str = "aaaaaaaa-0000-4000-8000-000000000004";
const FLOW: &str = "aaaaaaaa-0000-4000-8000-000000000005";
const DATASET: &str = "0123456789abcdef01234567";

struct Harness {
    _data_dir: tempfile::TempDir,
    context: RunContext,
    datasets: Arc<LocalDatasets>,
    scope: Scope,
    /// The dataset [`chain`] creates (one per scope in a test with two).
    dataset_id: &'static str,
}

async fn harness() -> Harness {
    let data_dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open_in_data_dir(data_dir.path())
            .await
            .unwrap(),
    );
    let datasets = Arc::new(LocalDatasets::in_data_dir(data_dir.path()));
    let http = HttpClient::new(HttpOptions {
        request_timeout: Duration::from_secs(5),
        retries: 0,
        ..HttpOptions::default()
    })
    .unwrap();
    let context = RunContext {
        store,
        cipher: Arc::new(Cipher::new(SecretKey::from_bytes([9; 32]))),
        http,
        datasets: datasets.clone() as Arc<dyn DatasetStore>,
        bounds: RunBounds::default(),
        sessions: flowd_connector::AuthSessions::default(),
    };
    let scope = Scope {
        org_id: "ORG@AdobeOrg".into(),
        sandbox_name: "prod".into(),
    };
    Harness {
        _data_dir: data_dir,
        context,
        datasets,
        scope,
        dataset_id: DATASET,
    }
}

fn oauth_spec() -> Value {
    json!({
        "name": "Records behind OAuth",
        "providerId": "0ed90a81-07f4-4586-8190-b40eccef1c5a",
        "authSpec": [{
            "name": "OAuth2 Refresh Code",
            "type": "OAuth2RefreshCode",
            "spec": {"type": "object", "required": ["host", "accessToken"], "properties": {
                "host": {"type": "string"},
                "accessToken": {"type": "string", "format": "password"},
                "refreshToken": {"type": "string", "format": "password"},
                "clientId": {"type": "string"},
                "clientSecret": {"type": "string", "format": "password"},
                "accessTokenUrl": {"type": "string"}
            }}
        }],
        "sourceSpec": {"attributes": {
            "urlParams": {"host": "${host}", "path": "/none", "method": "GET"},
            "contentPath": {"path": "$.records"}
        }},
        "exploreSpec": {"name": "Resource", "type": "Resource"}
    })
}

async fn insert(
    harness: &Harness,
    kind: ResourceKind,
    id: &str,
    body: Value,
    references: &[ResourceRef],
) {
    harness
        .context
        .store
        .insert_resource(
            &harness.scope,
            kind,
            id,
            ResourceWrite::with_references(&body, references),
        )
        .await
        .unwrap();
}

/// The chain spec → connection (credentials sealed) → source → dataset → target → flow.
async fn chain(harness: &Harness, mock: &MockApi, with_dataset: bool) {
    chain_with_spec(harness, mock, with_dataset, oauth_spec()).await;
}

/// [`chain`] over another connection spec (same auth spec).
async fn chain_with_spec(harness: &Harness, mock: &MockApi, with_dataset: bool, spec: Value) {
    chain_with(harness, mock, with_dataset, spec, json!({})).await;
}

/// [`chain_with_spec`] with more members in the source connection.
async fn chain_with(
    harness: &Harness,
    mock: &MockApi,
    with_dataset: bool,
    spec: Value,
    source_extra: Value,
) {
    let mut source = json!({"name": "source", "baseConnectionId": CONNECTION, "connectionSpec": {"id": SPEC}, "data": {"format": "json"}});
    for (name, value) in source_extra.as_object().unwrap() {
        source[name] = value.clone();
    }
    insert(
        harness,
        ResourceKind::ConnectionSpec,
        SPEC,
        spec.clone(),
        &[],
    )
    .await;
    let plain: Map<String, Value> = json!({
        "host": mock.base_url(),
        "accessToken": "initial-access-token",
        "refreshToken": "initial-refresh-token",
        "clientId": "client-id",
        "clientSecret": "client-secret",
        "accessTokenUrl": mock.url("/oauth/token"),
    })
    .as_object()
    .unwrap()
    .clone();
    let secret_names = flowd_spec::AuthSpecs::resolve(&spec)
        .unwrap()
        .find("OAuth2 Refresh Code")
        .unwrap()
        .secret_param_names(&plain);
    let sealed = flowd_plan::credentials::seal(
        &harness.context.cipher,
        &harness.scope,
        CONNECTION,
        &plain,
        &secret_names,
    );
    insert(
        harness,
        ResourceKind::Connection,
        CONNECTION,
        json!({"name": "oauth", "connectionSpec": {"id": SPEC}, "auth": {"specName": "OAuth2 Refresh Code", "params": sealed}}),
        &[],
    )
    .await;
    insert(
        harness,
        ResourceKind::SourceConnection,
        SOURCE,
        source,
        &[ResourceRef::new(
            ResourceKind::Connection,
            CONNECTION,
            "/baseConnectionId",
        )],
    )
    .await;
    let mut target_references = Vec::new();
    if with_dataset {
        insert(
            harness,
            ResourceKind::Dataset,
            harness.dataset_id,
            json!({"name": "records", "schemaRef": {"id": "https://ns.adobe.com/t/schemas/r"}}),
            &[],
        )
        .await;
        target_references.push(ResourceRef::new(
            ResourceKind::Dataset,
            harness.dataset_id,
            "/params/dataSetId",
        ));
    }
    insert(
        harness,
        ResourceKind::TargetConnection,
        TARGET,
        json!({"connectionSpec": {"id": flowd_spec::DATA_LAKE_CONNECTION_SPEC_ID}, "data": {"format": "parquet_xdm"}, "params": {"dataSetId": harness.dataset_id}}),
        &target_references,
    )
    .await;
    insert(
        harness,
        ResourceKind::Flow,
        FLOW,
        json!({"name": "flow", "flowSpec": {"id": flowd_spec::REST_STORAGE_TO_AEP_FLOW_SPEC_ID},
               "sourceConnectionIds": [SOURCE], "targetConnectionIds": [TARGET],
               "scheduleParams": {"startTime": 1_700_000_000, "frequency": "hour", "interval": 1}}),
        &[
            ResourceRef::new(
                ResourceKind::SourceConnection,
                SOURCE,
                "/sourceConnectionIds/0",
            ),
            ResourceRef::new(
                ResourceKind::TargetConnection,
                TARGET,
                "/targetConnectionIds/0",
            ),
        ],
    )
    .await;
}

/// Enqueues a scheduled run of the flow, lets a worker take and execute it, and returns it.
async fn run_once(harness: &Harness) -> flowd_store::RunRecord {
    let store = &harness.context.store;
    let now = flowd_model::time::now_millis();
    store
        .insert_run(&NewRun {
            id: "bbbbbbbb-0000-4000-8000-000000000001".into(),
            scope: harness.scope.clone(),
            flow_id: FLOW.into(),
            trigger: RunTrigger::Scheduled,
            window_start: None,
            window_end: now,
            scheduled_at: now,
            created_at: now,
            created_by: None,
            created_client: None,
        })
        .await
        .unwrap();
    let options = WorkerOptions::new("worker-1".into());
    let claimed = store
        .claim_run(&options.worker_id, now, 60_000, None)
        .await
        .unwrap()
        .expect("the run is due");
    process(&harness.context, &options, claimed.clone()).await;
    store
        .get_run(&harness.scope, &claimed.id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn an_oauth_token_refreshed_during_a_scheduled_run_is_saved_sealed() {
    let harness = harness().await;
    let mock = MockApi::start(Scenario::generated(12).with_auth(Auth::Bearer).with_oauth(
        OAuthOptions {
            start_expired: true,
            ..OAuthOptions::default()
        },
    ))
    .await;
    chain(&harness, &mock, true).await;

    let run = run_once(&harness).await;
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error);
    assert_eq!(run.metrics.unwrap().output_records, 12);
    assert_eq!(mock.token_refreshes(), 1, "one refresh after the first 401");

    let stored = harness
        .context
        .store
        .get_resource(&harness.scope, ResourceKind::Connection, CONNECTION)
        .await
        .unwrap()
        .unwrap();
    let new_access = mock.access_token().expect("the mock holds a fresh token");
    let new_refresh = mock.refresh_token();
    assert_ne!(new_access, "initial-access-token");
    assert_ne!(
        new_refresh, "initial-refresh-token",
        "the mock rotates refresh tokens"
    );
    let stored_text = stored.body.to_string();
    assert!(
        !stored_text.contains(&new_access) && !stored_text.contains(&new_refresh),
        "the tokens are stored sealed: {stored_text}"
    );
    let opened = flowd_plan::credentials::open(
        &harness.context.cipher,
        &harness.scope,
        CONNECTION,
        &flowd_plan::credentials::stored_params(&stored.body),
    )
    .unwrap();
    assert_eq!(opened["accessToken"], new_access.as_str());
    assert_eq!(opened["refreshToken"], new_refresh.as_str());

    let stats = harness
        .context
        .store
        .dataset_stats(&harness.scope, DATASET)
        .await
        .unwrap()
        .expect("the committed batch is in the dataset's statistics");
    assert_eq!((stats.batch_count, stats.record_count), (1, 12));
    assert_eq!(harness.datasets.batches(DATASET).unwrap().len(), 1);

    // The next run uses the saved tokens: no second refresh.
    mock.clear_requests();
    let store = &harness.context.store;
    let later = flowd_model::time::now_millis() + 1;
    store
        .insert_run(&NewRun {
            id: "bbbbbbbb-0000-4000-8000-000000000002".into(),
            scope: harness.scope.clone(),
            flow_id: FLOW.into(),
            trigger: RunTrigger::Adhoc,
            window_start: None,
            window_end: later,
            scheduled_at: later,
            created_at: later,
            created_by: None,
            created_client: None,
        })
        .await
        .unwrap();
    let options = WorkerOptions::new("worker-2".into());
    let claimed = store
        .claim_run(&options.worker_id, later, 60_000, None)
        .await
        .unwrap()
        .unwrap();
    process(&harness.context, &options, claimed).await;
    assert_eq!(mock.token_refreshes(), 1, "the saved token was used as is");
}

#[tokio::test]
async fn a_run_whose_dataset_no_longer_exists_fails_clearly_and_writes_nothing() {
    let harness = harness().await;
    let mock = MockApi::start(Scenario::generated(3).with_auth(Auth::Bearer)).await;
    chain(&harness, &mock, false).await;
    let run = run_once(&harness).await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("the failure is recorded");
    assert_eq!(error.code, "CONFIGURATION");
    assert_eq!(
        error.message,
        format!("the dataset {DATASET} no longer exists; nothing was written")
    );
    assert_eq!(mock.request_count(), 0, "nothing was fetched");
    assert!(harness.datasets.batches(DATASET).unwrap().is_empty());
    assert!(!harness.datasets.root().join(DATASET).exists());
}

/// A run whose worker dies is taken over when its lease expires, and the takeover is an
/// attempt: with `run_attempts: 2`, the claim after two interrupted attempts fails the run
/// without fetching anything, instead of trying it forever.
#[tokio::test]
async fn a_takeover_counts_as_an_attempt_and_the_budget_holds() {
    let harness = harness().await;
    let mock = MockApi::start(Scenario::generated(3).with_auth(Auth::Bearer)).await;
    chain(&harness, &mock, true).await;
    let store = &harness.context.store;
    let start = flowd_model::time::now_millis();
    store
        .insert_run(&NewRun {
            id: "bbbbbbbb-0000-4000-8000-000000000002".into(),
            scope: harness.scope.clone(),
            flow_id: FLOW.into(),
            trigger: RunTrigger::Scheduled,
            window_start: None,
            window_end: start,
            scheduled_at: start,
            created_at: start,
            created_by: None,
            created_client: None,
        })
        .await
        .unwrap();
    // Two workers claim the run and die, each lease expiring before the next claim.
    for (attempt, worker) in [(1, "worker-dies-1"), (2, "worker-dies-2")] {
        let claimed = store
            .claim_run(worker, start + attempt * 10, 5, None)
            .await
            .unwrap()
            .expect("the run is due, or its lease expired");
        assert_eq!(claimed.attempts, attempt, "each claim is an attempt");
    }
    let options = WorkerOptions {
        run_attempts: 2,
        ..WorkerOptions::new("worker-3".into())
    };
    let taken_over = store
        .claim_run(&options.worker_id, start + 30, 60_000, None)
        .await
        .unwrap()
        .expect("the expired lease is taken over");
    assert_eq!(taken_over.attempts, 3);
    process(&harness.context, &options, taken_over.clone()).await;
    let run = store
        .get_run(&harness.scope, &taken_over.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("the failure is recorded");
    assert_eq!(error.code, "INTERRUPTED");
    assert!(
        error.message.contains("started 2 times"),
        "{}",
        error.message
    );
    assert_eq!(
        mock.request_count(),
        0,
        "the run was not tried a third time"
    );
    assert!(
        store
            .claim_run("worker-4", start + 120_000, 60_000, None)
            .await
            .unwrap()
            .is_none(),
        "a failed run is never claimed again"
    );
}

/// A run is held to `--max-run-seconds` whatever its spec does: an upstream slower than the
/// bound fails the run with LIMIT_EXCEEDED as soon as the bound passes, and nothing is written.
#[tokio::test]
async fn a_run_longer_than_the_bound_fails_at_the_bound_and_writes_nothing() {
    let mut harness = harness().await;
    harness.context.bounds.max_duration = Duration::from_millis(200);
    let mock = MockApi::start(
        Scenario::generated(3)
            .with_auth(Auth::Bearer)
            .with_latency(Duration::from_secs(30)),
    )
    .await;
    chain(&harness, &mock, true).await;
    let started = std::time::Instant::now();
    let run = run_once(&harness).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the run ended at its bound, not with the upstream: {:?}",
        started.elapsed()
    );
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("the failure is recorded");
    assert_eq!(error.code, "LIMIT_EXCEEDED");
    assert!(
        error.message.contains("--max-run-seconds"),
        "{}",
        error.message
    );
    assert!(harness.datasets.batches(DATASET).unwrap().is_empty());
}

/// A run is held to `--max-pages-per-run`: one that would fetch more pages fails instead of
/// committing a batch that silently misses the rest of its window.
#[tokio::test]
async fn a_run_with_more_pages_than_the_bound_fails_and_writes_nothing() {
    let mut harness = harness().await;
    harness.context.bounds.max_pages = 2;
    let mock = MockApi::start(Scenario::generated(50).with_auth(Auth::Bearer)).await;
    let mut spec = oauth_spec();
    spec["sourceSpec"]["attributes"] = json!({
        "urlParams": {"host": "${host}", "path": "/offset", "method": "GET"},
        "contentPath": {"path": "$.items"},
        "paginationParams": {"type": "OFFSET", "limitName": "limit", "limitValue": 10, "offSetName": "offset"}
    });
    chain_with_spec(&harness, &mock, true, spec).await;
    let run = run_once(&harness).await;
    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("the failure is recorded");
    assert_eq!(error.code, "LIMIT_EXCEEDED");
    assert!(
        error.message.contains("--max-pages-per-run"),
        "{}",
        error.message
    );
    assert_eq!(mock.request_count(), 2, "no page past the bound is fetched");
    assert!(harness.datasets.batches(DATASET).unwrap().is_empty());
}

/// The chain over an OFFSET spec of `/offset` (10 per page) with extra pagination members.
async fn offset_chain(harness: &Harness, mock: &MockApi, extra: Value) {
    let mut spec = oauth_spec();
    let mut pagination =
        json!({"type": "OFFSET", "limitName": "limit", "limitValue": 10, "offSetName": "offset"});
    for (name, value) in extra.as_object().unwrap() {
        pagination[name] = value.clone();
    }
    spec["sourceSpec"]["attributes"] = json!({
        "urlParams": {"host": "${host}", "path": "/offset", "method": "GET"},
        "contentPath": {"path": "$.items"},
        "paginationParams": pagination
    });
    chain_with_spec(harness, mock, true, spec).await;
}

/// An API that answers the same page whatever the offset stops the fetch on the repeated-page
/// guard: the run fails (the rest of the window may be missing) and writes nothing, instead of
/// committing the pages before the repeat as a success.
#[tokio::test]
async fn a_stop_on_the_repeated_page_guard_fails_the_run_and_writes_nothing() {
    let harness = harness().await;
    let mock = MockApi::start(Scenario {
        faults: flowd_mockapi::Faults {
            repeat_last_page: true,
            ..flowd_mockapi::Faults::default()
        },
        ..Scenario::generated(20).with_auth(Auth::Bearer)
    })
    .await;
    offset_chain(&harness, &mock, json!({})).await;
    let run = run_once(&harness).await;
    assert_eq!(run.status, RunStatus::Failed, "{run:?}");
    let error = run.error.expect("the failure is recorded");
    assert_eq!(error.code, "PAGINATION_GUARD");
    assert!(
        error
            .message
            .contains("page 3 repeated the records of page 2")
            && error.message.contains("nothing was written"),
        "{}",
        error.message
    );
    assert!(harness.datasets.batches(DATASET).unwrap().is_empty());
}

/// The spec's own `maximumRequest` is its end condition: the run succeeds with what the
/// requests brought, and the run carries the warning (the API may hold more).
#[tokio::test]
async fn the_specs_own_maximum_request_ends_the_run_with_a_warning_on_it() {
    let harness = harness().await;
    let mock = MockApi::start(Scenario::generated(100).with_auth(Auth::Bearer)).await;
    offset_chain(&harness, &mock, json!({"maximumRequest": 3})).await;
    let run = run_once(&harness).await;
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error);
    assert_eq!(run.metrics.unwrap().output_records, 30);
    assert_eq!(run.warnings.len(), 1, "{:?}", run.warnings);
    assert_eq!(run.warnings[0].code, "MAXIMUM_REQUEST");
    assert!(
        run.warnings[0].message.contains("maximumRequest (3)"),
        "{:?}",
        run.warnings
    );
}

/// A content path that misses a bare array: the run succeeds with nothing, and says why in its
/// warnings (`statusSummary.warnings`), in the same words `flowd spec test` and explore use.
#[tokio::test]
async fn a_content_path_that_misses_a_bare_array_is_an_empty_extraction_warning_on_the_run() {
    let harness = harness().await;
    let mock = MockApi::start(Scenario::generated(20).with_auth(Auth::Bearer)).await;
    let mut spec = oauth_spec();
    spec["sourceSpec"]["attributes"] = json!({
        "urlParams": {"host": "${host}", "path": "/array", "method": "GET"},
        "contentPath": {"path": "$.customers"}
    });
    chain_with_spec(&harness, &mock, true, spec).await;
    let run = run_once(&harness).await;
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error);
    assert_eq!(run.warnings.len(), 1, "{:?}", run.warnings);
    assert_eq!(run.warnings[0].code, "EMPTY_EXTRACTION");
    assert_eq!(
        run.warnings[0].message,
        "contentPath.path \"$.customers\" selected no records, but the response is an array of 20 objects; contentPath.path \"$\" would select 20 records"
    );
}

fn new_run(harness: &Harness, id: &str, window_end: i64) -> NewRun {
    NewRun {
        id: id.into(),
        scope: harness.scope.clone(),
        flow_id: FLOW.into(),
        trigger: RunTrigger::Scheduled,
        window_start: None,
        window_end,
        scheduled_at: window_end,
        created_at: window_end,
        created_by: None,
        created_client: None,
    }
}

async fn status_of(harness: &Harness, scope: &Scope, run_id: &str) -> RunStatus {
    harness
        .context
        .store
        .get_run(scope, run_id)
        .await
        .unwrap()
        .unwrap()
        .status
}

/// Two workers, one sandbox whose runs hang on a slow upstream, and a run of another sandbox
/// that arrives once both slow runs are due: with one run per sandbox at a time, the slow
/// sandbox holds one worker and the other sandbox's run is done on the second at once,
/// instead of waiting behind the slow ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sandbox_cannot_keep_another_sandboxs_run_waiting() {
    let mut harness = harness().await;
    // The slow upstream must hold its runs for the whole test, not time out and free a worker.
    harness.context.http = HttpClient::new(HttpOptions {
        request_timeout: Duration::from_secs(120),
        retries: 0,
        ..HttpOptions::default()
    })
    .unwrap();
    let slow = MockApi::start(
        Scenario::generated(3)
            .with_auth(Auth::Bearer)
            .with_latency(Duration::from_secs(60)),
    )
    .await;
    chain(&harness, &slow, true).await;
    let slow_scope = harness.scope.clone();
    let now = flowd_model::time::now_millis();
    for (index, id) in [
        "cccccccc-0000-4000-8000-000000000001",
        "cccccccc-0000-4000-8000-000000000002",
    ]
    .into_iter()
    .enumerate()
    {
        harness
            .context
            .store
            .insert_run(&new_run(&harness, id, now - 1000 + index as i64))
            .await
            .unwrap();
    }
    let fast = MockApi::start(Scenario::generated(3).with_auth(Auth::Bearer)).await;
    harness.scope = Scope {
        org_id: "OTHER@AdobeOrg".into(),
        sandbox_name: "dev".into(),
    };
    harness.dataset_id = "fedcba9876543210fedcba98";
    chain(&harness, &fast, true).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers: Vec<_> = (0..2)
        .map(|worker| {
            let options = WorkerOptions {
                poll_every: Duration::from_millis(20),
                max_runs_per_sandbox: Some(1),
                ..WorkerOptions::new(format!("worker-{worker}"))
            };
            tokio::spawn(flowd_scheduler::worker::run_worker(
                harness.context.clone(),
                options,
                stopped.clone(),
            ))
        })
        .collect();
    let first_slow = "cccccccc-0000-4000-8000-000000000001";
    let second_slow = "cccccccc-0000-4000-8000-000000000002";
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while status_of(&harness, &slow_scope, first_slow).await != RunStatus::InProgress {
        assert!(
            std::time::Instant::now() < deadline,
            "the first slow run was not taken"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Give the second worker every chance to take the second slow run.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let other = "dddddddd-0000-4000-8000-000000000001";
    harness
        .context
        .store
        .insert_run(&new_run(&harness, other, flowd_model::time::now_millis()))
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let status = status_of(&harness, &harness.scope, other).await;
        if status == RunStatus::Success {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the other sandbox's run is still {status:?} behind the slow sandbox's runs"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        status_of(&harness, &slow_scope, second_slow).await,
        RunStatus::Pending,
        "the slow sandbox's second run waits for its first"
    );
    assert_eq!(
        harness.datasets.batches(harness.dataset_id).unwrap().len(),
        1
    );
    stop.send(true).unwrap();
    for worker in workers {
        worker.abort();
    }
}

/// A source connection's `flowd.pageConcurrency` makes a scheduled run fetch that many OFFSET
/// pages at once (within the server's bound), and the batch keeps the API's record order.
#[tokio::test]
async fn page_concurrency_fetches_pages_at_once_and_keeps_the_order() {
    const LATENCY: std::time::Duration = std::time::Duration::from_millis(100);
    let mut elapsed = Vec::new();
    for (asked, server_bound) in [(8, 4), (1, 8)] {
        let mut harness = harness().await;
        harness.context.bounds.max_page_concurrency = server_bound;
        let mock = MockApi::start(
            Scenario::generated(40)
                .with_auth(Auth::Bearer)
                .with_latency(LATENCY),
        )
        .await;
        let mut spec = oauth_spec();
        spec["sourceSpec"]["attributes"] = json!({
            "urlParams": {"host": "${host}", "path": "/offset", "method": "GET"},
            "contentPath": {"path": "$.items"},
            "paginationParams": {"type": "OFFSET", "limitName": "limit", "limitValue": 5, "offSetName": "offset"}
        });
        chain_with(
            &harness,
            &mock,
            true,
            spec,
            json!({"flowd": {"pageConcurrency": asked}}),
        )
        .await;
        let started = std::time::Instant::now();
        let run = run_once(&harness).await;
        elapsed.push(started.elapsed());
        assert_eq!(run.status, RunStatus::Success, "{:?}", run.error);
        let ids: Vec<Value> = harness
            .datasets
            .head(DATASET, 100)
            .unwrap()
            .into_iter()
            .map(|record| record["id"].clone())
            .collect();
        let expected: Vec<Value> = (0..40)
            .map(|index| flowd_mockapi::generated_record(index)["id"].clone())
            .collect();
        assert_eq!(ids, expected, "pageConcurrency {asked}: the API's order");
    }
    // 9 requests of 100 ms: one at a time they take at least 0.9 s; four at a time (eight
    // asked, four allowed) about three rounds.
    assert!(elapsed[1] >= LATENCY * 9, "one at a time: {:?}", elapsed[1]);
    assert!(
        elapsed[0] * 2 < elapsed[1],
        "four at a time: {:?} against {:?}",
        elapsed[0],
        elapsed[1]
    );
}

/// `flowd.requestsPerSecond` holds however many pages are fetched at once: N requests at 20
/// per second take at least N − 1 intervals of 50 ms, with eight pages asked at once.
#[tokio::test]
async fn requests_per_second_paces_a_run_that_fetches_pages_at_once() {
    let harness = harness().await;
    let mock = MockApi::start(Scenario::generated(40).with_auth(Auth::Bearer)).await;
    let mut spec = oauth_spec();
    spec["sourceSpec"]["attributes"] = json!({
        "urlParams": {"host": "${host}", "path": "/offset", "method": "GET"},
        "contentPath": {"path": "$.items"},
        "paginationParams": {"type": "OFFSET", "limitName": "limit", "limitValue": 5, "offSetName": "offset"}
    });
    chain_with(
        &harness,
        &mock,
        true,
        spec,
        json!({"flowd": {"pageConcurrency": 8, "requestsPerSecond": 20}}),
    )
    .await;
    let started = std::time::Instant::now();
    let run = run_once(&harness).await;
    let elapsed = started.elapsed();
    assert_eq!(run.status, RunStatus::Success, "{:?}", run.error);
    // Nine pages at least (pages guessed past the end may be asked too).
    let requests = mock.request_count();
    assert!(requests >= 9, "{requests} requests");
    assert!(
        elapsed >= std::time::Duration::from_millis(50 * (requests as u64 - 1)),
        "{requests} requests at 20 per second took {elapsed:?}"
    );
}

/// An idle worker woken through its `wake` claims a run made due at once, instead of at its
/// next poll (a minute away here).
#[tokio::test]
async fn a_woken_worker_claims_a_due_run_before_its_next_poll() {
    let harness = harness().await;
    let mock = MockApi::start(Scenario::generated(5).with_auth(Auth::Bearer)).await;
    chain(&harness, &mock, true).await;
    let mut options = WorkerOptions::new("worker-woken".into());
    options.poll_every = Duration::from_secs(60);
    let wake = options.wake.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(flowd_scheduler::worker::run_worker(
        harness.context.clone(),
        options,
        stopped,
    ));
    // The worker found nothing and sleeps until its next poll.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let now = flowd_model::time::now_millis();
    harness
        .context
        .store
        .insert_run(&new_run(
            &harness,
            "bbbbbbbb-0000-4000-8000-0000000000aa",
            now,
        ))
        .await
        .unwrap();
    wake.notify_one();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while status_of(
        &harness,
        &harness.scope,
        "bbbbbbbb-0000-4000-8000-0000000000aa",
    )
    .await
        != RunStatus::Success
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the woken worker did not run it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
}
