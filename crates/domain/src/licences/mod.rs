//! licences: the pure part (rules, types, checks); its store, service and pages are in the
//! `quanban` crate.

pub mod domain;
pub mod keys;
pub mod proof;
pub mod seal_image;
pub mod sealing;
