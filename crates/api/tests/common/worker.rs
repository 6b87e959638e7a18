//! A played worker: the run context `flowd serve` gives its workers, over the test app's
//! store and data dir, and one due run claimed and executed to its end, as `flowd serve` runs it.

use std::sync::Arc;

use flowd_scheduler::executor::{RunBounds, RunContext};
use flowd_scheduler::worker::{WorkerOptions, process};
use flowd_secrets::{Cipher, SecretKey};

use super::TestApp;

/// The context of a worker writing the datasets of the app's data dir.
pub fn run_context(app: &TestApp) -> RunContext {
    RunContext {
        store: app.store.clone(),
        cipher: Arc::new(Cipher::new(SecretKey::from_bytes([7; 32]))),
        http: flowd_connector::HttpClient::new(flowd_connector::HttpOptions::default()).unwrap(),
        datasets: Arc::new(flowd_sink::LocalDatasets::in_data_dir(app.data_dir.path())),
        bounds: RunBounds::default(),
        sessions: flowd_connector::AuthSessions::default(),
    }
}

/// Claims the due run for `options`' worker (it must be one).
pub async fn claim_due_run(app: &TestApp, options: &WorkerOptions) -> flowd_store::RunRecord {
    app.store
        .claim_run(
            &options.worker_id,
            flowd_model::time::now_millis(),
            60_000,
            None,
        )
        .await
        .unwrap()
        .expect("a run is due")
}

/// Claims the due run and executes it to its end with `context`.
pub async fn execute_due_run(app: &TestApp, context: &RunContext) {
    let options = WorkerOptions::new("worker".into());
    let claimed = claim_due_run(app, &options).await;
    process(context, &options, claimed).await;
}
