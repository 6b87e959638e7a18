//! Data Prep's API under `/data/foundation/conversion` (reference `data-prep.md`): mapping sets
//! and their versions (`mapping_sets`). Same credentials, tenancy and error bodies as Flow
//! Service; the expression language itself is `flowd_dataprep`.

pub mod mapping_sets;
