//! Data Prep's API under `/data/foundation/conversion` (reference `data-prep.md`): mapping sets
//! and their versions (`mapping_sets`), validate and preview (`checks`), the older single-mapping routes (`mappings`), the
//! expression language's validation and lists
//! (`languages`). Same credentials, tenancy and error bodies as Flow
//! Service; the expression language itself is `flowd_dataprep`.

pub mod checks;
pub mod languages;
pub mod mapping_sets;
pub mod mappings;

use crate::routing::Routes;
use crate::routing::{get, post};

/// Every route under the Data Prep base path, wired here so that its modules need not know
/// each other's handlers.
pub fn routes() -> Routes {
    use mapping_sets::{create, delete, list, mapping, mappings as list_mappings, read, update};
    Routes::new()
        .route("/mappingSets", get(list).post(create))
        .route("/mappingSets/validate", post(checks::validate))
        .route("/mappingSets/preview", post(checks::preview))
        .route("/mappingSets/{id}", get(read).put(update).delete(delete))
        .route(
            "/mappingSets/{id}/mappings",
            get(list_mappings).post(self::mappings::add),
        )
        .route(
            "/mappingSets/{id}/mappings/{mapping_id}",
            get(mapping)
                .put(self::mappings::replace)
                .delete(self::mappings::remove),
        )
        .merge(languages::routes())
}
