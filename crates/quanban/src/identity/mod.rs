//! Identity: real-name people, enterprises and the people who act for them, staff with roles
//! scoped to their department, sessions, and the single authorization decision.
//!
//! - `domain`: checked types for what people type in (ID number, credit code, phone, password).
//! - `authz`: who may do what to which record.
//! - `store`: accounts in the database.
//! - `session`: logins, tokens, throttling.
//! - `api` / `pages`: JSON endpoints and web pages.

pub mod api;
pub use quanban_domain::identity::authz;
pub use quanban_domain::identity::domain;
pub mod pages;
pub mod password;
pub mod qr_login;
pub mod service;
pub mod session;
pub mod store;
