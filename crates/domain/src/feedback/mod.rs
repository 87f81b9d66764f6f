//! 好差评 (ratings): the bad-review loop and the figures.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod domain;
