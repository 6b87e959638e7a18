//! `flowd serve` and `flowd credentials create`: open the store (the data
//! directory's SQLite file, or `--store URL`), bootstrap the first credential,
//! create the one dataset store, and run the API, the planner and the workers
//! until SIGINT or SIGTERM.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use flowd_api::{ApiConfig, AppState, IssuedCredential, issue_credential, issue_first_credential};
use flowd_scheduler::executor::{RunBounds, RunContext};
use flowd_scheduler::planner::run_planner;
use flowd_scheduler::worker::{WorkerOptions, run_worker};
use flowd_secrets::Cipher;
use flowd_sink::DatasetStore;
use flowd_store::Store;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::ServeArgs;

/// The org of the credential created on an empty data directory.
pub const BOOTSTRAP_ORG_ID: &str = "flowd@AdobeOrg";
/// File (owner-only) holding that first credential inside the data dir.
pub const BOOTSTRAP_CREDENTIAL_FILE: &str = "initial-credential.json";

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    crate::logging::init()?;
    // The port first: on a busy one nothing is created (data dir, credential, key).
    let listener = bind(&args.listen).await?;
    let data_dir_shown = std::path::absolute(&args.data_dir)
        .unwrap_or_else(|_| args.data_dir.clone())
        .display()
        .to_string();
    match &args.config {
        Some(config) => {
            tracing::info!(data_dir = %data_dir_shown, config = %config.display(), "starting")
        }
        None => tracing::info!(data_dir = %data_dir_shown, "starting"),
    }
    crate::data::restrict_data_dir(&args.data_dir)?;
    let upstream = Arc::new(flowd_connector::UpstreamPolicy::new(
        args.deny_upstream.clone(),
        args.allow_upstream.clone(),
    ));
    let store = crate::data::open_store(&args.data_dir, args.store.as_deref()).await?;
    if store.count_credentials().await? == 0 {
        bootstrap_credential(store.as_ref(), &args.data_dir).await?;
    }
    let cipher = crate::keys::load_cipher(&args.data_dir, &args.keys)?;
    match flowd_plan::keys::verify_secret_key(store.as_ref(), &cipher).await? {
        flowd_plan::keys::KeyStatus::Current => {}
        flowd_plan::keys::KeyStatus::RotationPending { kid } => tracing::warn!(
            sealed_with = %kid,
            current = %cipher.current_kid(),
            "the store's secrets are sealed with an older key; `flowd secrets rotate` re-seals them with the current one"
        ),
    }
    let datasets: Arc<dyn DatasetStore> =
        flowd_sink::open_datasets(args.datasets_url.as_deref(), &args.data_dir)?;
    let state = AppState::new(
        store.clone(),
        ApiConfig {
            max_body_bytes: args.max_body_bytes,
            max_page_bytes: args.max_page_bytes,
            upstream: upstream.clone(),
            body_timeout: std::time::Duration::from_millis(args.body_timeout_ms.max(1)),
            role: args.role.into(),
            ..ApiConfig::default()
        },
        cipher.clone(),
    )
    .with_datasets(datasets.clone())
    .with_metrics(install_metrics_recorder()?);
    flowd_scheduler::telemetry::seed_flows(store.as_ref()).await;
    let (stop_sender, stop_receiver) = tokio::sync::watch::channel(false);
    let resealed = flowd_plan::credentials::seal_clear_secrets(store.as_ref(), &cipher)
        .await
        .context("sealing connection secrets kept in clear")?;
    if resealed > 0 {
        tracing::info!(
            connections = resealed,
            "connection secrets kept in clear are now sealed"
        );
    }
    let role = flowd_api::Role::from(args.role);
    let background = if role.runs() {
        crate::data::prepare_datasets(store.as_ref(), datasets.clone()).await;
        start_runs(
            &args,
            store.clone(),
            datasets,
            cipher,
            upstream,
            &state,
            stop_receiver,
        )?
    } else {
        Background::default()
    };
    let address = listener.local_addr()?;
    tracing::info!(data_dir = %data_dir_shown, role = role.as_str(), workers = if role.runs() { args.workers } else { 0 }, "listening on http://{address}");
    let limits = flowd_api::server::ServerLimits {
        head_timeout: std::time::Duration::from_millis(args.head_timeout_ms.max(1)),
        max_connections: args.max_connections.max(1),
    };
    flowd_api::server::serve(listener, flowd_api::app(state), limits, shutdown_signal()).await?;
    // No new run is claimed; runs in progress get the grace period to finish. One still
    // running after it is handed back: nothing of it is visible, and any flowd process takes
    // it over at once (the interrupted attempt not counted).
    let _ = stop_sender.send(true);
    let grace = std::time::Duration::from_secs(args.shutdown_grace_seconds);
    let Background { tasks, worker_ids } = background;
    let finishing = async {
        for task in tasks {
            let _ = task.await;
        }
    };
    if tokio::time::timeout(grace, finishing).await.is_err() {
        // Hand the runs back: nothing of them is visible, and any process may take them at
        // once instead of waiting for their leases to expire.
        match store
            .release_runs(&worker_ids, flowd_model::time::now_millis())
            .await
        {
            Ok(released) => tracing::warn!(
                grace_seconds = args.shutdown_grace_seconds,
                released,
                "runs still in progress after the grace period are handed back; any flowd process takes them over"
            ),
            Err(error) => tracing::warn!(
                %error,
                "runs still in progress after the grace period are abandoned; they are taken over when their leases expire"
            ),
        }
        return Ok(());
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The listener of `--listen`, or an error saying in words why there is none.
async fn bind(listen: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AddrInUse => anyhow::anyhow!(
                "cannot listen on {listen}: the address is already in use (is another flowd running? choose another with --listen or FLOWD_LISTEN)"
            ),
            std::io::ErrorKind::PermissionDenied => anyhow::anyhow!(
                "cannot listen on {listen}: permission denied (ports below 1024 need privileges; choose another with --listen or FLOWD_LISTEN)"
            ),
            _ => anyhow::anyhow!("cannot listen on {listen}: {error}"),
        })
}

/// Bounds of `flowd_run_duration_seconds`, from sub-second runs to hours.
const RUN_DURATION_BUCKETS: [f64; 14] = [
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0,
];

/// Installs the process-wide Prometheus recorder that `GET /metrics`
/// renders, and a task that runs its upkeep (histogram maintenance).
fn install_metrics_recorder() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("flowd_run_duration_seconds".into()),
            &RUN_DURATION_BUCKETS,
        )
        .context("configuring the run duration histogram")?
        .install_recorder()
        .context("installing the metrics recorder")?;
    flowd_scheduler::telemetry::describe_all();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// Starts the planner and the worker pool of `flowd serve`.
fn start_runs(
    args: &ServeArgs,
    store: Arc<dyn Store>,
    datasets: Arc<dyn DatasetStore>,
    cipher: Cipher,
    upstream: Arc<flowd_connector::UpstreamPolicy>,
    api: &AppState,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Background> {
    // One OAuth session per connection for the whole process: runs and previews of a
    // connection refresh through it, one refresh at a time.
    let sessions = api.sessions.clone();
    let http = flowd_connector::HttpClient::new(flowd_connector::HttpOptions {
        retries: args.http_retries,
        max_body_bytes: args.max_page_bytes,
        upstream,
        ..flowd_connector::HttpOptions::default()
    })?;
    let context = RunContext {
        store: store.clone(),
        cipher: Arc::new(cipher),
        http,
        datasets,
        bounds: RunBounds {
            max_duration: std::time::Duration::from_secs(args.max_run_seconds.max(1)),
            max_pages: args.max_pages_per_run.max(1),
            max_page_concurrency: args.max_page_concurrency.max(1),
        },
        sessions,
    };
    let max_runs_per_sandbox = match args.max_runs_per_sandbox {
        Some(0) => None,
        Some(cap) => Some(cap),
        None => Some(u32::try_from(args.workers.saturating_sub(1).max(1)).unwrap_or(u32::MAX)),
    };
    let process_id = uuid_like();
    let mut worker_ids = Vec::new();
    let janitor = tokio::spawn(flowd_scheduler::janitor::run_janitor(
        store.clone(),
        context.datasets.clone(),
        std::time::Duration::from_millis(args.planner_tick_ms.max(100)),
        stop.clone(),
    ));
    let mut tasks = vec![
        janitor,
        tokio::spawn(run_planner(
            store,
            std::time::Duration::from_millis(args.planner_tick_ms),
            stop.clone(),
        )),
    ];
    for worker in 0..args.workers {
        let mut options = WorkerOptions::new(format!("{process_id}-worker-{worker}"));
        worker_ids.push(options.worker_id.clone());
        options.run_attempts = args.run_attempts.max(1);
        options.retry_backoff = std::time::Duration::from_millis(args.retry_backoff_ms);
        options.poll_every = std::time::Duration::from_millis(args.planner_tick_ms.min(1000));
        options.lease = std::time::Duration::from_millis(args.lease_ms.max(100));
        options.heartbeat_every = options.lease / 4;
        options.max_runs_per_sandbox = max_runs_per_sandbox;
        options.wake = api.runs_due.clone();
        tasks.push(tokio::spawn(run_worker(
            context.clone(),
            options,
            stop.clone(),
        )));
    }
    tracing::info!(
        workers = args.workers,
        lease_owner_prefix = %format!("{process_id}-worker-"),
        max_runs_per_sandbox = ?max_runs_per_sandbox,
        "workers started"
    );
    Ok(Background { tasks, worker_ids })
}

/// The planner and workers of a process, and the lease owner names of its workers.
#[derive(Default)]
struct Background {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    worker_ids: Vec<String>,
}

/// A process-unique prefix for worker ids (lease owners).
fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        flowd_model::time::now().as_nanosecond()
    )
}

/// Creates the first credential of an empty data dir, prints it once and
/// keeps a copy readable only by the owner, for the README's quick start.
async fn bootstrap_credential(store: &dyn Store, data_dir: &Path) -> anyhow::Result<()> {
    let Some(credential) = issue_first_credential(store, BOOTSTRAP_ORG_ID).await? else {
        // Another process starting on the same store bootstrapped it.
        return Ok(());
    };
    let path = data_dir.join(BOOTSTRAP_CREDENTIAL_FILE);
    write_owner_only(&path, &credential).with_context(|| format!("writing {}", path.display()))?;
    println!("{}", serde_json::to_string(&credential)?);
    std::io::stdout().flush()?;
    tracing::info!(
        file = %path.display(),
        "created the first credential for org {BOOTSTRAP_ORG_ID}; it is printed above and saved in that file"
    );
    Ok(())
}

fn write_owner_only(path: &Path, credential: &IssuedCredential) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    serde_json::to_writer_pretty(&mut file, credential)?;
    file.write_all(b"\n")?;
    file.sync_all()
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

pub async fn create_credential(
    data_dir: PathBuf,
    store_url: Option<String>,
    org: String,
) -> anyhow::Result<()> {
    let org = org.trim();
    anyhow::ensure!(!org.is_empty(), "--org must not be empty");
    crate::data::restrict_data_dir(&data_dir)?;
    let store = crate::data::open_store(&data_dir, store_url.as_deref()).await?;
    let credential = issue_credential(store.as_ref(), org).await?;
    println!("{}", serde_json::to_string(&credential)?);
    store.close().await;
    Ok(())
}
