//! Assisted service (帮办代办): a person or an enterprise (especially for projects) asks for help;
//! an officer is assigned; with the applicant's power of attorney the officer submits cases for
//! them (the case shows who submitted it for whom); progress notes; a rating. Free of charge.
//!
//! - `store`: requests, notes, the state changes (each version-guarded and audited).
//! - `service`: who may do what, the power of attorney's text; `api`, `pages`.

pub mod api;
pub use quanban_domain::assistance::domain;
pub mod pages;
pub mod service;
pub mod store;
