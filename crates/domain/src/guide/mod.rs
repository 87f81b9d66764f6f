//! The guide: query parsing and its synonym data.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod intent;
pub mod query;
pub mod synonyms;
