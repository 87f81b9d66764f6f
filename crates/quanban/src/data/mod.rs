//! Digital-resource integration (数据按需共享、统一交换): the data catalog of the city's
//! registers, split by owning department (`domain`, published as DCAT-AP by `dcat`), loading them
//! (`generate`, `import`), requests for conditional data and the grant check (`sharing`), and
//! the one exchange every read goes through, with its access log (`service`, `api`, `pages`).

pub mod api;
pub use quanban_domain::data::dcat;
pub use quanban_domain::data::domain;
pub mod generate;
pub mod import;
pub mod pages;
pub mod service;
pub mod sharing;
pub mod store;
