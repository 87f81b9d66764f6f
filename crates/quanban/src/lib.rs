//! Quanban (全办): an integrated government-services platform for a Chinese city.
//!
//! One folder per area of the mission, the same shape inside each (`domain` rules, `store` SQL,
//! `api` JSON endpoints, `pages` web pages). See `docs/ARCHITECTURE.md` for the map.

pub mod app;
pub mod assessment;
pub mod assistance;
pub mod audit;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod cli;
pub mod complaints;
pub mod config;
pub mod dashboard;
pub mod data;
pub mod demo;
pub mod feedback;
pub use quanban_domain::figures;
pub mod guide;
pub mod halls;
pub mod http;
pub mod identity;
pub mod licences;
pub mod monitoring;
pub mod platform;
pub mod policies;
pub mod projects;
pub mod reference;
pub mod reform;
pub mod store;
pub mod web;
