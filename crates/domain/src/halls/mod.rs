//! halls: the pure part (rules, types, checks); its store, service and pages are in the
//! `quanban` crate.

pub mod domain;
