//! `flowd-bench control-plane`: what the control plane costs as history grows. Two stores
//! built in this run — a large one (10,000 enabled flows across 100 sandboxes, 1,000,000 past
//! runs, 10,000 connections, a dataset with 1,000 batches) and a small one (10 flows, 100
//! runs, 10 connections, a dataset with 10 batches) — answer the same planner ticks and API
//! requests, alternately, on the embedded SQLite store with full synchronous commits. The
//! requests go through the real router in-process (no sockets), so the figures are the
//! handler, the store and SQLite, not the network.
//!
//! Figures are p50 and p99 over the samples; the targets are the large figure within 3× of
//! the small one, planner ticks ≤ 50 ms p99 and API calls ≤ 20 ms p99 at the large size.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use flowd_api::{ApiConfig, AppState, IssuedCredential, issue_credential};
use flowd_model::{ResourceKind, RunMetrics, RunStatus, RunTrigger};
use flowd_secrets::{Cipher, SecretKey};
use flowd_store::prelude::*;
use flowd_store::{
    BatchCommit, ImportedRun, ListQuery, NewRun, ResourceWrite, RunCompletion, ScheduleWrite,
    Scope, SqliteStore, Store, StoreUrl,
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::report::Row;

const ORG: &str = "bench@AdobeOrg";
const DATASET_ID: &str = "0123456789abcdef01234567";
/// 2020-01-01T00:00:00Z: schedules start here; imported history ends before it.
const SCHEDULE_START: i64 = 1_577_836_800;
const WINDOW_SECONDS: i64 = 900;
const FAR_FUTURE_MS: i64 = 4_102_444_800_000;
const MAX_TICK_P99: Duration = Duration::from_millis(50);
const MAX_API_P99: Duration = Duration::from_millis(20);
const MAX_GROWTH: f64 = 3.0;

/// How big a store is.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub label: &'static str,
    pub sandboxes: usize,
    pub flows_per_sandbox: usize,
    pub runs_per_flow: usize,
    pub connections_per_sandbox: usize,
    pub batches: usize,
}

pub const LARGE: Size = Size {
    label: "large",
    sandboxes: 100,
    flows_per_sandbox: 100,
    runs_per_flow: 100,
    connections_per_sandbox: 100,
    batches: 1_000,
};

pub const SMALL: Size = Size {
    label: "small",
    sandboxes: 1,
    flows_per_sandbox: 10,
    runs_per_flow: 10,
    connections_per_sandbox: 10,
    batches: 10,
};

/// A populated store and what the requests name.
struct Fixture {
    _dir: Option<tempfile::TempDir>,
    store: Arc<dyn Store>,
    router: Router,
    credential: IssuedCredential,
    /// The first sandbox, which every request reads.
    scope: Scope,
    flow_ids: Vec<String>,
    dataset_id: String,
}

fn sandbox_name(index: usize) -> String {
    format!("sb-{index:03}")
}

fn uuid(kind: u32, sandbox: usize, index: usize) -> String {
    format!("{kind:08x}-{sandbox:04x}-4000-8000-{index:012x}")
}

fn flow_document(id: &str, sandbox: usize, index: usize) -> Value {
    json!({
        "id": id, "name": format!("flow-{index}"), "state": "enabled",
        "createdAt": index, "updatedAt": index, "etag": "\"bench\"",
        "flowSpec": {"id": "6499120c-0b15-42dc-936e-847ea3c24d72", "version": "1.0"},
        "sourceConnectionIds": [uuid(2, sandbox, index)],
        "targetConnectionIds": [uuid(3, sandbox, index)],
        "scheduleParams": {"startTime": SCHEDULE_START, "frequency": "minute", "interval": 15},
        "lastRunDetails": {}
    })
}

fn flow_write(document: &Value, due_hint: i64) -> ResourceWrite<'_> {
    ResourceWrite {
        schedule: Some(ScheduleWrite {
            enabled: true,
            due_hint: Some(due_hint),
        }),
        ..ResourceWrite::document(document)
    }
}

fn imported_run(
    scope: &Scope,
    flow_id: &str,
    sandbox: usize,
    flow: usize,
    k: usize,
    count: usize,
) -> ImportedRun {
    // History before the schedule's start, so it never collides with a window to come.
    let window_end = (SCHEDULE_START - (count - k) as i64 * WINDOW_SECONDS) * 1000;
    ImportedRun {
        run: NewRun {
            id: format!("{:08x}-{sandbox:04x}-4{flow:03x}-8000-{k:012x}", 7),
            scope: scope.clone(),
            flow_id: flow_id.to_owned(),
            trigger: RunTrigger::Scheduled,
            window_start: Some(window_end - WINDOW_SECONDS * 1000),
            window_end,
            scheduled_at: window_end,
            created_at: window_end,
            created_by: None,
            created_client: None,
        },
        status: RunStatus::Success,
        attempts: 1,
        metrics: Some(RunMetrics {
            started_at: window_end,
            completed_at: window_end + 2_000,
            pages: 3,
            input_records: 250,
            input_bytes: 75_000,
            output_records: 250,
            output_bytes: 20_000,
            output_files: 1,
            failed_records: 0,
        }),
        error: None,
    }
}

fn error(what: &'static str) -> impl Fn(flowd_store::StoreError) -> String {
    move |e| format!("{what}: {e}")
}

/// The store of `size`: built in a temporary directory, or under `keep` (built there the first
/// time, reused afterwards: the fixtures are deterministic).
async fn populate(size: Size, keep: Option<&std::path::Path>) -> Result<Fixture, String> {
    let (dir, path) = match keep {
        Some(keep) => (None, keep.join(format!("{}.sqlite", size.label))),
        None => {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let path = dir.path().join(flowd_store::DATABASE_FILE_NAME);
            (Some(dir), path)
        }
    };
    let reused = path.exists();
    let bulk = SqliteStore::open_file_for_bulk_load(&path)
        .await
        .map_err(error("opening"))?;
    let credential = issue_credential(&bulk, ORG)
        .await
        .map_err(error("credential"))?;
    if reused {
        eprintln!("  {} store: reused {}", size.label, path.display());
    } else {
        build(&bulk, size).await?;
    }
    bulk.close().await;
    open_fixture(size, dir, path, credential).await
}

/// Writes the fixtures of `size` into `bulk`.
async fn build(bulk: &SqliteStore, size: Size) -> Result<(), String> {
    let started = Instant::now();
    let no_seed = |_: &str| Vec::new();
    let mut history = Vec::new();
    for sandbox in 0..size.sandboxes {
        let scope = Scope {
            org_id: ORG.into(),
            sandbox_name: sandbox_name(sandbox),
        };
        bulk.ensure_sandbox(ORG, &scope.sandbox_name, &no_seed)
            .await
            .map_err(error("sandbox"))?;
        for index in 0..size.connections_per_sandbox {
            let id = uuid(1, sandbox, index);
            let document = json!({"id": id, "name": format!("connection-{index}"), "state": "enabled",
                "createdAt": index, "updatedAt": index,
                "connectionSpec": {"id": "aaaaaaaa-0000-4000-8000-000000000001"},
                "auth": {"specName": "Basic Authentication", "params": {"username": "u"}}});
            bulk.insert_resource(
                &scope,
                ResourceKind::Connection,
                &id,
                ResourceWrite::document(&document),
            )
            .await
            .map_err(error("connection"))?;
        }
        for index in 0..size.flows_per_sandbox {
            let id = uuid(4, sandbox, index);
            let document = flow_document(&id, sandbox, index);
            bulk.insert_resource(
                &scope,
                ResourceKind::Flow,
                &id,
                flow_write(&document, FAR_FUTURE_MS),
            )
            .await
            .map_err(error("flow"))?;
            for k in 0..size.runs_per_flow {
                history.push(imported_run(
                    &scope,
                    &id,
                    sandbox,
                    index,
                    k,
                    size.runs_per_flow,
                ));
            }
            if history.len() >= 20_000 {
                bulk.import_runs(&history).await.map_err(error("runs"))?;
                history.clear();
            }
        }
    }
    bulk.import_runs(&history).await.map_err(error("runs"))?;
    let scope = Scope {
        org_id: ORG.into(),
        sandbox_name: sandbox_name(0),
    };
    let dataset_id = DATASET_ID;
    let dataset =
        json!({"name": "members", "schemaRef": {"id": "https://ns.adobe.com/t/schemas/m"}});
    bulk.insert_resource(
        &scope,
        ResourceKind::Dataset,
        dataset_id,
        ResourceWrite::document(&dataset),
    )
    .await
    .map_err(error("dataset"))?;
    let schema = serde_json::to_string(&flowd_model::record_type::StructType::of_records(
        [json!({"id": 1, "email": "a@example.com", "member": {"tags": ["x"], "score": 1.5}})]
            .iter(),
    ))
    .map_err(|e| e.to_string())?;
    let merge = |_: Option<&str>| schema.clone();
    for batch in 0..size.batches {
        let batch_id = format!("run-{batch}");
        let commit = BatchCommit {
            dataset_id,
            batch_id: &batch_id,
            record_count: 250,
            bytes: 20_000,
            file_count: 1,
            merge_schema: &merge,
        };
        bulk.record_batch(&scope, Some(&batch_id), &commit)
            .await
            .map_err(error("batch"))?;
    }
    eprintln!(
        "  {} store: {} flows, {} runs, {} connections, {} batches, built in {:.1} s",
        size.label,
        size.sandboxes * size.flows_per_sandbox,
        size.sandboxes * size.flows_per_sandbox * size.runs_per_flow,
        size.sandboxes * size.connections_per_sandbox,
        size.batches,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn open_fixture(
    size: Size,
    dir: Option<tempfile::TempDir>,
    path: std::path::PathBuf,
    credential: IssuedCredential,
) -> Result<Fixture, String> {
    let scope = Scope {
        org_id: ORG.into(),
        sandbox_name: sandbox_name(0),
    };
    let flow_ids = (0..size.flows_per_sandbox)
        .map(|index| uuid(4, 0, index))
        .collect();
    let store = flowd_store::open_store(&StoreUrl::Sqlite(path))
        .await
        .map_err(error("reopening"))?;
    let router = flowd_api::app(AppState::new(
        store.clone(),
        ApiConfig::default(),
        Cipher::new(SecretKey::from_bytes([5; 32])),
    ));
    let fixture = Fixture {
        _dir: dir,
        store,
        router,
        credential,
        scope,
        flow_ids,
        dataset_id: DATASET_ID.to_owned(),
    };
    // A reused store may hold flows an earlier run made due: none is, to start with.
    fixture
        .set_due(size.flows_per_sandbox, FAR_FUTURE_MS)
        .await?;
    Ok(fixture)
}

impl Fixture {
    /// One GET through the router; the time until the whole body is read.
    async fn get(&self, path: &str) -> Result<Duration, String> {
        let request = Request::builder()
            .uri(path)
            .header(
                "authorization",
                format!("Bearer {}", self.credential.access_token),
            )
            .header("x-api-key", &self.credential.api_key)
            .header("x-gw-ims-org-id", ORG)
            .header("x-sandbox-name", &self.scope.sandbox_name)
            .body(Body::empty())
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        let elapsed = started.elapsed();
        if !status.is_success() {
            return Err(format!(
                "GET {path}: {status} {}",
                String::from_utf8_lossy(&body.to_bytes())
            ));
        }
        Ok(elapsed)
    }

    /// A planner tick at `now`; checks it enqueued `expected` runs.
    async fn tick(&self, expected: usize) -> Result<Duration, String> {
        let started = Instant::now();
        let enqueued =
            flowd_scheduler::planner::plan_once(self.store.as_ref(), flowd_model::time::now())
                .await
                .map_err(|e| e.to_string())?;
        let elapsed = started.elapsed();
        if enqueued != expected {
            return Err(format!(
                "a tick enqueued {enqueued} runs, expected {expected}"
            ));
        }
        Ok(elapsed)
    }

    /// Makes the first `count` flows of the first sandbox due now.
    async fn make_due(&self, count: usize) -> Result<(), String> {
        self.set_due(count, 0).await
    }

    /// Writes the first `count` flows of the first sandbox with a due hint of `due_hint`.
    async fn set_due(&self, count: usize, due_hint: i64) -> Result<(), String> {
        for id in self.flow_ids.iter().take(count) {
            let stored = self
                .store
                .get_resource(&self.scope, ResourceKind::Flow, id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("a flow is missing")?;
            self.store
                .replace_resource(
                    &self.scope,
                    ResourceKind::Flow,
                    id,
                    flow_write(&stored.body, due_hint),
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Plays workers: every pending run succeeds, releasing its flow (due again: the
    /// schedule is catching up since 2020).
    async fn finish_pending(&self) -> Result<(), String> {
        let now = flowd_model::time::now_millis();
        while let Some(run) = self
            .store
            .claim_run("bench", now, 60_000, None)
            .await
            .map_err(|e| e.to_string())?
        {
            let completion = RunCompletion {
                status: RunStatus::Success,
                scheduled_at: run.scheduled_at,
                metrics: RunMetrics::default(),
                error: None,
                warnings: Vec::new(),
                batch: None,
            };
            self.store
                .finish_run(&run.id, "bench", &completion)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// p50 and p99 of `samples`.
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |quantile: f64| {
        let index = ((samples.len() as f64 * quantile).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[index]
    };
    (at(0.5), at(0.99))
}

fn milliseconds(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

/// The rows of one figure measured at both sizes.
fn rows(
    measure: &str,
    small: &mut [Duration],
    large: &mut [Duration],
    limit: Duration,
) -> Vec<Row> {
    let (small_p50, small_p99) = percentiles(small);
    let (large_p50, large_p99) = percentiles(large);
    let growth = large_p99.as_secs_f64() / small_p99.as_secs_f64().max(1e-9);
    let growth_p50 = large_p50.as_secs_f64() / small_p50.as_secs_f64().max(1e-9);
    eprintln!(
        "  {measure}: small p50 {} p99 {}, large p50 {} p99 {}",
        milliseconds(small_p50),
        milliseconds(small_p99),
        milliseconds(large_p50),
        milliseconds(large_p99)
    );
    vec![
        Row::info(
            format!("{measure}: small store p50 / p99"),
            format!("{} / {}", milliseconds(small_p50), milliseconds(small_p99)),
        ),
        Row::check(
            format!("{measure}: large store p50 / p99"),
            format!("{} / {}", milliseconds(large_p50), milliseconds(large_p99)),
            format!("p99 ≤ {}", milliseconds(limit)),
            large_p99 <= limit,
        ),
        Row::check(
            format!("{measure}: large ÷ small, p50 / p99"),
            format!("{growth_p50:.2}× / {growth:.2}×"),
            format!("≤ {MAX_GROWTH:.0}×"),
            growth_p50 <= MAX_GROWTH && growth <= MAX_GROWTH,
        ),
    ]
}

/// Measures every figure at both sizes; `samples` per API figure. With `keep`, the stores
/// are built there once and reused by later runs.
pub async fn run(samples: usize, keep: Option<&std::path::Path>) -> Result<Vec<Row>, String> {
    eprintln!("control plane: building the stores");
    let small = populate(SMALL, keep).await?;
    let large = populate(LARGE, keep).await?;
    let mut table = Vec::new();

    // Planner ticks with nothing due.
    let (mut small_idle, mut large_idle) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        small_idle.push(small.tick(0).await?);
        large_idle.push(large.tick(0).await?);
    }
    table.extend(rows(
        "planner tick, nothing due",
        &mut small_idle,
        &mut large_idle,
        MAX_TICK_P99,
    ));

    // API requests, alternating sizes sample by sample.
    let flow = |fixture: &Fixture| fixture.flow_ids[fixture.flow_ids.len() / 2].clone();
    type PathOf = fn(&Fixture, &str) -> String;
    let requests: [(&str, PathOf); 6] = [
        ("GET /flows?limit=100", |_, _| {
            "/data/foundation/flowservice/flows?limit=100".to_owned()
        }),
        (
            "GET /flows?limit=10 (a page of the small store's size)",
            |_, _| "/data/foundation/flowservice/flows?limit=10".to_owned(),
        ),
        ("GET /flows/{id}", |_, flow| {
            format!("/data/foundation/flowservice/flows/{flow}")
        }),
        ("GET /runs?property=flowId==<id>&limit=50", |_, flow| {
            format!("/data/foundation/flowservice/runs?property=flowId=={flow}&limit=50")
        }),
        ("GET /connections?property=name==<x>", |_, _| {
            "/data/foundation/flowservice/connections?property=name==connection-7".to_owned()
        }),
        ("GET /dataSets/{id}", |fixture, _| {
            format!("/data/foundation/catalog/dataSets/{}", fixture.dataset_id)
        }),
    ];
    let (small_flow, large_flow) = (flow(&small), flow(&large));
    for (measure, path_of) in requests {
        let small_path = path_of(&small, &small_flow);
        let large_path = path_of(&large, &large_flow);
        for _ in 0..10 {
            small.get(&small_path).await?;
            large.get(&large_path).await?;
        }
        let (mut small_samples, mut large_samples) = (Vec::new(), Vec::new());
        for _ in 0..samples {
            small_samples.push(small.get(&small_path).await?);
            large_samples.push(large.get(&large_path).await?);
        }
        table.extend(rows(
            measure,
            &mut small_samples,
            &mut large_samples,
            MAX_API_P99,
        ));
    }
    // Planner ticks with flows due (after the reads: the runs they add would grow the small
    // store's history). 10 flows due at both sizes, then 100 due in the large store.
    let (mut small_due, mut large_due) = (Vec::new(), Vec::new());
    small.make_due(10).await?;
    large.make_due(10).await?;
    for _ in 0..samples / 4 {
        small_due.push(small.tick(10).await?);
        small.finish_pending().await?;
        large_due.push(large.tick(10).await?);
        large.finish_pending().await?;
    }
    table.extend(rows(
        "planner tick, 10 flows due",
        &mut small_due,
        &mut large_due,
        MAX_TICK_P99,
    ));
    large.make_due(100).await?;
    let mut hundred_due = Vec::new();
    for _ in 0..samples / 4 {
        hundred_due.push(large.tick(100).await?);
        large.finish_pending().await?;
    }
    let (p50, p99) = percentiles(&mut hundred_due);
    eprintln!(
        "  planner tick, 100 flows due: large p50 {} p99 {}",
        milliseconds(p50),
        milliseconds(p99)
    );
    table.push(Row::check(
        "planner tick, 100 flows due: large store p50 / p99",
        format!("{} / {}", milliseconds(p50), milliseconds(p99)),
        format!("p99 ≤ {}", milliseconds(MAX_TICK_P99)),
        p99 <= MAX_TICK_P99,
    ));

    let listed = large
        .store
        .list_resources(&large.scope, ResourceKind::Flow, &ListQuery::default())
        .await
        .map_err(|e| e.to_string())?;
    table.push(Row::info(
        "large store: flows in the sandbox read",
        listed.len().to_string(),
    ));
    Ok(table)
}
