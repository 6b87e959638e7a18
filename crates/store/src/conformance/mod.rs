//! The conformance suites every store backend must pass, exported (feature `conformance`) so
//! that a backend's tests run exactly these checks with one call:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn my_store_passes_the_conformance_suites() {
//!     flowd_store::conformance::check_all(open_my_store).await;
//! }
//! ```
//!
//! `open` returns a fresh, empty store and a guard that keeps whatever backs it alive (a
//! temporary directory, a throwaway database) until the check ends. Each check gets its own
//! store, so they neither depend on each other nor on their order.

mod datasets;
mod inputs;
mod postgres_cluster;
mod progress;
mod resources;
mod run_windows;
mod runs;
mod schedules;
mod sessions;

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use crate::{Scope, Store};

pub use datasets::{
    a_deleted_dataset_is_listed_until_its_files_are_gone,
    batches_are_listed_in_order_paged_found_by_id_and_scoped,
    committed_batches_add_up_and_a_recommitted_batch_replaces_itself,
};
pub use inputs::text_with_a_nul_is_answered_as_nothing_not_an_error;
pub use postgres_cluster::PostgresCluster;
pub use progress::progress_is_written_by_the_lease_holder_and_ends_with_the_final_figures;
pub use resources::{
    concurrent_deletes_never_leave_a_dangling_reference, credentials_are_found_by_token_hash_only,
    list_queries_filter_order_and_page_in_the_store,
    references_must_exist_and_block_deletes_of_their_targets,
    replace_bumps_the_revision_and_honours_the_expected_one,
    resources_round_trip_and_stay_in_their_scope, sandboxes_are_created_once_with_their_seed,
    the_first_credential_is_bootstrapped_once_under_concurrent_starts,
    the_secret_key_check_reads_back_and_a_rotation_replaces_it,
};
pub use run_windows::the_run_overlapping_a_window_is_found_by_its_window;
pub use runs::{
    a_stopping_process_hands_its_runs_back_claimable_at_once,
    an_expired_lease_is_taken_over_and_the_old_worker_is_fenced,
    claims_are_fair_across_sandboxes_and_hold_the_per_sandbox_cap,
    concurrent_workers_never_claim_the_same_run, only_a_finished_run_of_the_scope_is_retriggered,
    runs_are_claimed_once_in_order_and_only_when_due,
    runs_list_in_the_store_and_each_flow_has_a_latest_run,
};
pub use schedules::{
    completions_and_edits_of_their_flow_never_fail_each_other,
    due_flows_advance_once_and_wait_for_their_scheduled_run,
};
pub use sessions::{
    a_session_needs_its_credential_and_a_fresh_id, expired_sessions_are_purged_and_live_ones_kept,
    sandboxes_are_listed_by_name_for_their_org_only,
    sessions_are_found_by_id_hash_until_they_expire_or_are_deleted,
};

/// Runs each check against its own fresh store from `$open`.
macro_rules! each_check {
    ($open:expr, $($check:path),+ $(,)?) => {$({
        let (store, _guard) = $open().await;
        $check(store).await;
    })+};
}

/// A fresh store and what keeps it alive.
pub type OpenedStore = (Arc<dyn Store>, Box<dyn Any + Send>);

/// Every check of every suite, each against a fresh store from `open`.
pub async fn check_all<Open, Opening>(open: Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedStore>,
{
    check_resource_store(&open).await;
    check_run_queue(&open).await;
    check_dataset_stats(&open).await;
    check_sessions(&open).await;
}

/// The checks of [`crate::SessionStore`] and of the sandbox list the console reads.
pub async fn check_sessions<Open, Opening>(open: &Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedStore>,
{
    each_check!(
        open,
        sessions_are_found_by_id_hash_until_they_expire_or_are_deleted,
        expired_sessions_are_purged_and_live_ones_kept,
        a_session_needs_its_credential_and_a_fresh_id,
        sandboxes_are_listed_by_name_for_their_org_only,
    );
}

/// The checks of [`crate::ResourceStore`] and [`crate::CredentialStore`].
pub async fn check_resource_store<Open, Opening>(open: &Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedStore>,
{
    each_check!(
        open,
        credentials_are_found_by_token_hash_only,
        the_secret_key_check_reads_back_and_a_rotation_replaces_it,
        the_first_credential_is_bootstrapped_once_under_concurrent_starts,
        sandboxes_are_created_once_with_their_seed,
        resources_round_trip_and_stay_in_their_scope,
        replace_bumps_the_revision_and_honours_the_expected_one,
        references_must_exist_and_block_deletes_of_their_targets,
        concurrent_deletes_never_leave_a_dangling_reference,
        list_queries_filter_order_and_page_in_the_store,
        text_with_a_nul_is_answered_as_nothing_not_an_error,
    );
}

/// The checks of [`crate::RunQueue`].
pub async fn check_run_queue<Open, Opening>(open: &Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedStore>,
{
    each_check!(
        open,
        runs_are_claimed_once_in_order_and_only_when_due,
        claims_are_fair_across_sandboxes_and_hold_the_per_sandbox_cap,
        an_expired_lease_is_taken_over_and_the_old_worker_is_fenced,
        a_stopping_process_hands_its_runs_back_claimable_at_once,
        only_a_finished_run_of_the_scope_is_retriggered,
        the_run_overlapping_a_window_is_found_by_its_window,
        concurrent_workers_never_claim_the_same_run,
        runs_list_in_the_store_and_each_flow_has_a_latest_run,
        due_flows_advance_once_and_wait_for_their_scheduled_run,
        completions_and_edits_of_their_flow_never_fail_each_other,
        progress_is_written_by_the_lease_holder_and_ends_with_the_final_figures,
    );
}

/// The checks of [`crate::DatasetStatsStore`].
pub async fn check_dataset_stats<Open, Opening>(open: &Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedStore>,
{
    let (store, _guard) = open().await;
    committed_batches_add_up_and_a_recommitted_batch_replaces_itself(store).await;
    let (store, _guard) = open().await;
    a_deleted_dataset_is_listed_until_its_files_are_gone(store).await;
    let (store, _guard) = open().await;
    batches_are_listed_in_order_paged_found_by_id_and_scoped(store).await;
}

pub(crate) fn scope(org: &str, sandbox: &str) -> Scope {
    Scope {
        org_id: org.to_owned(),
        sandbox_name: sandbox.to_owned(),
    }
}
