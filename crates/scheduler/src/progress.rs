//! A run's progress while it runs: the page stream counts pages and records into
//! [`RunCounters`] (two relaxed atomic adds per page), and the worker's [`report_progress`]
//! task writes them to the store every `every` while they change — one `UPDATE` fenced by the
//! lease (`RunQueue::record_progress`), none when nothing moved. The run's completion writes
//! the final figures in its own transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use flowd_store::{RunProgress, Store};

/// Pages fetched and records read so far by one attempt.
#[derive(Debug, Default)]
pub struct RunCounters {
    pages: AtomicU64,
    records: AtomicU64,
}

impl RunCounters {
    /// Counts one page of `records` records.
    pub fn add_page(&self, records: u64) {
        self.records.fetch_add(records, Ordering::Relaxed);
        self.pages.fetch_add(1, Ordering::Relaxed);
    }

    /// (pages, records) so far.
    pub fn read(&self) -> (u64, u64) {
        (
            self.pages.load(Ordering::Relaxed),
            self.records.load(Ordering::Relaxed),
        )
    }
}

/// Writes `counters` as the progress of `run_id` every `every` while they change, until the
/// task is aborted or the worker loses the lease.
pub async fn report_progress(
    store: Arc<dyn Store>,
    run_id: String,
    worker_id: String,
    counters: Arc<RunCounters>,
    every: Duration,
) {
    // A claim writes zeros: nothing to write until a page came.
    let mut written = (0, 0);
    loop {
        tokio::time::sleep(every).await;
        let now = counters.read();
        if now == written {
            continue;
        }
        let progress = RunProgress {
            pages: now.0,
            records: now.1,
            updated_at: flowd_model::time::now_millis(),
        };
        match store.record_progress(&run_id, &worker_id, &progress).await {
            Ok(true) => written = now,
            Ok(false) => return,
            Err(error) => tracing::warn!(%run_id, %error, "writing the run's progress failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flowd_store::{NewRun, RunTrigger, Scope, SqliteStore};

    async fn progress_of(store: &dyn Store, scope: &Scope) -> RunProgress {
        store
            .get_run(scope, "run-1")
            .await
            .unwrap()
            .unwrap()
            .progress
            .unwrap()
    }

    #[tokio::test]
    async fn progress_is_written_when_it_moves_and_not_while_it_stands_still() {
        let directory = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_in_data_dir(directory.path())
                .await
                .unwrap(),
        );
        let scope = Scope {
            org_id: "ORG".into(),
            sandbox_name: "prod".into(),
        };
        store
            .insert_run(&NewRun {
                id: "run-1".into(),
                scope: scope.clone(),
                flow_id: "flow-1".into(),
                trigger: RunTrigger::Adhoc,
                window_start: None,
                window_end: 1000,
                scheduled_at: 0,
                created_at: 0,
                created_by: None,
                created_client: None,
            })
            .await
            .unwrap();
        store.claim_run("worker", 1, 60_000, None).await.unwrap();
        let counters = Arc::new(RunCounters::default());
        let every = Duration::from_millis(20);
        let reporter = tokio::spawn(report_progress(
            store.clone(),
            "run-1".into(),
            "worker".into(),
            counters.clone(),
            every,
        ));
        tokio::time::sleep(every * 5).await;
        assert_eq!(
            progress_of(store.as_ref(), &scope).await.updated_at,
            1,
            "nothing moved: the claim's zeros stay unwritten over"
        );
        counters.add_page(100);
        counters.add_page(50);
        tokio::time::sleep(every * 5).await;
        let moved = progress_of(store.as_ref(), &scope).await;
        assert_eq!((moved.pages, moved.records), (2, 150));
        tokio::time::sleep(every * 5).await;
        assert_eq!(
            progress_of(store.as_ref(), &scope).await,
            moved,
            "no write while it stands still"
        );
        reporter.abort();
    }
}
