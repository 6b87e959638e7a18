//! Checks of a run's progress: written only by the lease holder while the run is in progress,
//! zero again when an attempt is claimed, and the final figures once the attempt ends.

use std::sync::Arc;

use super::runs::{completion, new_run};
use super::scope;
use crate::{RunProgress, RunStatus, Store};

pub async fn progress_is_written_by_the_lease_holder_and_ends_with_the_final_figures(
    store: Arc<dyn Store>,
) {
    let mine = scope("ORG1", "progress");
    store
        .insert_run(&new_run("run-p", &mine, "flow-1", 1000, 100))
        .await
        .unwrap();
    let pending = store.get_run(&mine, "run-p").await.unwrap().unwrap();
    assert_eq!(pending.progress, None, "no attempt started yet");
    let claimed = store
        .claim_run("worker-1", 500, 60_000, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        claimed.progress,
        Some(RunProgress {
            pages: 0,
            records: 0,
            updated_at: 500
        }),
        "a claimed attempt starts from nothing"
    );
    let so_far = RunProgress {
        pages: 2,
        records: 200,
        updated_at: 700,
    };
    assert!(
        store
            .record_progress("run-p", "worker-1", &so_far)
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_progress(
                "run-p",
                "worker-2",
                &RunProgress {
                    pages: 9,
                    records: 9,
                    updated_at: 800
                }
            )
            .await
            .unwrap(),
        "only the lease holder writes progress"
    );
    let running = store.get_run(&mine, "run-p").await.unwrap().unwrap();
    assert_eq!(running.progress, Some(so_far));
    assert_eq!(
        store
            .list_runs(&mine, &Default::default(), &Default::default())
            .await
            .unwrap()[0]
            .progress,
        Some(so_far),
        "lists show it too"
    );

    let ended = completion(RunStatus::Failed, 100);
    assert!(store.finish_run("run-p", "worker-1", &ended).await.unwrap());
    let failed = store.get_run(&mine, "run-p").await.unwrap().unwrap();
    let progress = failed.progress.unwrap();
    assert_eq!(
        (progress.pages, progress.records),
        (ended.metrics.pages, ended.metrics.input_records),
        "the final figures are kept"
    );
    assert_eq!(progress.updated_at, failed.updated_at);
    assert!(
        !store
            .record_progress("run-p", "worker-1", &so_far)
            .await
            .unwrap(),
        "a finished run takes no more progress"
    );
    assert_eq!(
        store
            .get_run(&mine, "run-p")
            .await
            .unwrap()
            .unwrap()
            .progress,
        Some(progress)
    );
}
