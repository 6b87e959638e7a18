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
mod resources;
mod runs;

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use crate::{Scope, Store};

pub use datasets::committed_batches_add_up_and_a_recommitted_batch_replaces_itself;
pub use resources::{
    concurrent_deletes_never_leave_a_dangling_reference, credentials_are_found_by_token_hash_only,
    list_queries_filter_order_and_page_in_the_store,
    references_must_exist_and_block_deletes_of_their_targets,
    replace_bumps_the_revision_and_honours_the_expected_one,
    resources_round_trip_and_stay_in_their_scope, sandboxes_are_created_once_with_their_seed,
};
pub use runs::{
    an_expired_lease_is_taken_over_and_the_old_worker_is_fenced,
    concurrent_workers_never_claim_the_same_run,
    due_flows_advance_once_and_wait_for_their_scheduled_run,
    only_a_failed_run_of_the_scope_is_retriggered,
    runs_are_claimed_once_in_order_and_only_when_due,
    runs_list_in_the_store_and_each_flow_has_a_latest_run,
};

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
}

/// The checks of [`crate::ResourceStore`] and [`crate::CredentialStore`].
pub async fn check_resource_store<Open, Opening>(open: &Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedStore>,
{
    macro_rules! check {
        ($check:path) => {{
            let (store, _guard) = open().await;
            $check(store).await;
        }};
    }
    check!(credentials_are_found_by_token_hash_only);
    check!(sandboxes_are_created_once_with_their_seed);
    check!(resources_round_trip_and_stay_in_their_scope);
    check!(replace_bumps_the_revision_and_honours_the_expected_one);
    check!(references_must_exist_and_block_deletes_of_their_targets);
    check!(concurrent_deletes_never_leave_a_dangling_reference);
    check!(list_queries_filter_order_and_page_in_the_store);
}

/// The checks of [`crate::RunQueue`].
pub async fn check_run_queue<Open, Opening>(open: &Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedStore>,
{
    macro_rules! check {
        ($check:path) => {{
            let (store, _guard) = open().await;
            $check(store).await;
        }};
    }
    check!(runs_are_claimed_once_in_order_and_only_when_due);
    check!(an_expired_lease_is_taken_over_and_the_old_worker_is_fenced);
    check!(only_a_failed_run_of_the_scope_is_retriggered);
    check!(concurrent_workers_never_claim_the_same_run);
    check!(runs_list_in_the_store_and_each_flow_has_a_latest_run);
    check!(due_flows_advance_once_and_wait_for_their_scheduled_run);
}

/// The checks of [`crate::DatasetStatsStore`].
pub async fn check_dataset_stats<Open, Opening>(open: &Open)
where
    Open: Fn() -> Opening,
    Opening: Future<Output = OpenedStore>,
{
    let (store, _guard) = open().await;
    committed_batches_add_up_and_a_recommitted_batch_replaces_itself(store).await;
}

pub(crate) fn scope(org: &str, sandbox: &str) -> Scope {
    Scope {
        org_id: org.to_owned(),
        sandbox_name: sandbox.to_owned(),
    }
}
