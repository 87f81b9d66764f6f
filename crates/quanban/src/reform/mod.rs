//! Reform tasks (改革任务): the plan's tasks under the five integrations, their milestones,
//! progress reports with evidence, the supervision office's review, overdue lights (electronic
//! monitoring raises them), and the office's spreadsheet in and out.
//!
//! - `quanban_domain::reform`: statuses, lights, report and review rules, reading the sheet.
//! - `store`: tasks, milestones (claimed at their version), their history.
//! - `service`: import/export, report, review; who may do what (through `decide`).
//! - `export`: the spreadsheet.
//! - `api`, `pages`: the JSON API and the pages.

pub use quanban_domain::reform::*;
pub mod api;
pub mod export;
pub mod pages;
pub mod service;
pub mod store;
