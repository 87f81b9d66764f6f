//! Department assessment (部门考评): scorecards computed from the platform's own records, each
//! figure with its formula and the records behind it; the ranking; the monthly report.
//!
//! - `quanban_domain::assessment`: the indicators, their formulas and scores, the weights
//!   (configuration), the ranking. Pure and tested.
//! - `store`: the sums per department and the drill-down, from every area's tables.
//! - `rollup`: the same sums per department and Beijing day, kept current from what changed.
//! - `service`: periods, who may read what (through `decide`).
//! - `report`: the monthly report as a spreadsheet and a PDF.
//! - `api`, `pages`: the JSON API and the pages.

pub use quanban_domain::assessment::*;
pub mod api;
pub mod pages;
pub mod report;
pub mod rollup;
pub mod service;
pub mod store;
