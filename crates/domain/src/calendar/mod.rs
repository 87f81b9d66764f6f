//! The working-day calendar (statutory holidays, 调休 weekends) and deadlines.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod deadline;
pub mod domain;
