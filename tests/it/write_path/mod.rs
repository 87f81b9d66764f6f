#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The write path: races on both databases, the bounded write queue, and the two dialects'
//! schemas kept the same.

mod leases;
mod queue;
mod races;
mod schema;
