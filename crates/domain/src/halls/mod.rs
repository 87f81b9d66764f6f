//! Service halls: opening hours, distances, slots.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod domain;
