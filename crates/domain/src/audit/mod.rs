//! The audit log: entries and their hash chain.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod domain;

pub use domain::{Entry, NewEntry};
