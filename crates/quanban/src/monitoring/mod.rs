//! Electronic monitoring (电子监察): a leased sweep raises each case that turns yellow or red
//! once — a message to the officer who accepted it and, when red, a supervision order (督办单)
//! to the department's head with a date to put it right by; the head closes the order with the
//! rectification; the supervision office sees every order.
//!
//! - `quanban_domain::monitoring`: what is new to raise, order numbers. Pure and tested.
//! - `store`: alerts (once per subject and level), orders, closing.
//! - `service`: the sweep, listing and closing orders (authorization through `decide`).
//! - `api`, `pages`: the JSON API and the orders page.

pub use quanban_domain::monitoring::*;
pub mod api;
pub mod pages;
pub mod service;
pub mod sources;
pub mod store;
