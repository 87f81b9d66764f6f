//! The pure part of Quanban (全办): each area's rules, types and checks, the reference data,
//! the working-day calendar, the credential proofs and Chinese word segmentation.
//!
//! This crate does no I/O: it has no database, network or file-system dependency, so the
//! compiler holds that line. It also builds beside the heavy dependencies of the `quanban`
//! crate (the store, the web layer, the search index) instead of after them.

pub mod assessment;
pub mod assistance;
pub mod audit;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod complaints;
pub mod data;
pub mod feedback;
pub mod fields;
pub mod figures;
pub mod geo;
pub mod guide;
pub mod halls;
pub mod identity;
pub mod licences;
pub mod monitoring;
pub mod platform;
pub mod projects;
pub mod reference;
pub mod reform;
