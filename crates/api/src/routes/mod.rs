//! The Flow Service routes (and Catalog's datasets), one module per resource collection; the
//! shared read, list and delete path in `documents`, the shared create and PATCH path of
//! instance resources in `instances`, and every collection's wire description in
//! `collections`.

pub mod actions;
mod body_fields;
pub mod collections;
pub mod configs;
pub mod connection_specs;
pub mod connections;
pub mod datasets;
pub mod documents;
pub mod explore;
mod flow_mappings;
pub mod flow_specs;
pub mod flows;
mod instances;
mod run_shape;
pub mod runs;
mod schedule_problems;
pub mod search;
pub mod source_connections;
pub mod target_connections;
