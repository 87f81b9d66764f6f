//! Digital-resource integration (数据按需共享): the data catalog of the city's registers, split by
//! owning department, and loading them (`quanban generate register`, `quanban import register`).
//! The exchange, grants and the access log build on these datasets.

pub mod domain;
pub mod generate;
pub mod import;
pub mod store;
