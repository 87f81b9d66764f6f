//! The working-day calendar (Asia/Shanghai): statutory days off and 调休 working weekends.
//! `domain` holds the rules; `store` keeps the years in the database so an administrator can add
//! one (2027 is not published yet) without a new release.

pub mod api;
pub use quanban_domain::calendar::deadline;
pub use quanban_domain::calendar::domain;
pub mod store;
