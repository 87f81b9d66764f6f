//! Cases (办件): applications for a catalog item or a bundle, from submission to delivery.
//!
//! - `domain`: the state machine, who may take which action, deadlines in working days with the
//!   clock paused during supplements (补正), traffic lights, case numbers. Pure and tested.
//! - `intake`: the application form, materials (upload, commitment, e-licence or shared data) and
//!   accepted file types. Pure and tested.
//! - `store`: cases, timeline, materials, uploads, drafts, inbox and outbox, post-checks.
//! - `service`: applying and acting, shared by the JSON API and the pages (validation and
//!   authorization happen here).
//! - `notify`: the outbox dispatcher and its pluggable senders.
//! - `api`, `pages`: the JSON API and the web pages.

pub mod api;
pub use quanban_domain::cases::domain;
pub use quanban_domain::cases::intake;
pub use quanban_domain::cases::trend;
pub mod notify;
pub mod pages;
pub mod service;
pub mod store;
