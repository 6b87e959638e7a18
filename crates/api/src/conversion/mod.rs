//! Data Prep's API under `/data/foundation/conversion` (reference `data-prep.md`): mapping sets
//! and their versions (`mapping_sets`), validate and preview (`checks`), the older single-mapping routes (`mappings`), the
//! expression language's validation and lists
//! (`languages`). Same credentials, tenancy and error bodies as Flow
//! Service; the expression language itself is `flowd_dataprep`.

pub mod checks;
pub mod languages;
pub mod mapping_sets;
pub mod mappings;
