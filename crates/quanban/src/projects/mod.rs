//! Construction projects (工程建设项目): the four-stage approval with a clock per stage and for the
//! whole (≤ 120 working days), each stage applied for as one bundle; and joint reviews (联合审图、
//! 联合验收) whose member departments give their opinions before the case is approved.
//!
//! - `quanban_domain::projects`: the flows, the stage clocks, which stage may be applied for and
//!   the joint-review rules. Pure and tested.
//! - `store`: projects, their codes and stage applications (the joint opinions are stored with
//!   the cases, in `cases::store`).
//! - `service`: registering, reading with clocks, allowing a stage, giving an opinion.
//! - `api`, `pages`: the JSON API and the web pages.

pub use quanban_domain::projects::*;
pub mod api;
pub mod pages;
pub mod service;
pub mod store;
