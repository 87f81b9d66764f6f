//! 接诉即办 (complaints): classification, routing, deadlines, the three rates.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod domain;
