//! 办件 (cases): the workflow, what an action changes, bundles and intake.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod domain;
pub mod intake;
pub mod trend;
