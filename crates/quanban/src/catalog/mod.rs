//! The service-item catalog (政务服务事项清单) with dynamic adjustment (动态调整), one-thing
//! bundles (一件事) and the responsibility-boundary list (部门职责边界清单).
//!
//! - `domain`: item validation, diffs, proposal rules, bundle resolution, boundary report (pure).
//! - `transfer`: import and export as JSON, CSV and Excel.
//! - `store`: items, versions, proposals; applying approved changes on their date.
//! - `api` / `pages`: JSON endpoints and the public service guide pages.

pub mod api;
pub use quanban_domain::catalog::domain;
pub mod pages;
pub mod store;
pub mod transfer;
