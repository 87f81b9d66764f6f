//! Every integration test of Quanban, in one binary: the story tests of each area on SQLite and
//! PostgreSQL, the write path's races, the processes (crash, two servers), the browser journeys
//! and the OpenAPI document. One binary links the library once instead of once per area, and its
//! tests share one pool of test threads, so a slow area no longer runs alone at the end.
//!
//! Run one area with a filter on its module: `cargo test --test it -- cases::`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

mod assessment;
mod assistance;
mod browser;
mod cases;
mod catalog;
mod dashboard;
mod data;
mod feedback;
mod guide;
mod halls;
mod hotline;
mod licences;
mod monitoring;
mod openapi;
mod policies;
mod processes;
mod projects;
mod reform;
mod story;
mod write_path;
