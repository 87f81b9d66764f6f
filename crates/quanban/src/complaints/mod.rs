//! 接诉即办 (12345 complaints) and 未诉先办: intake from the hotline, the web, the app and
//! Open311; classification (jieba + naive Bayes) and routing by category and district;
//! response and resolution deadlines with yellow and red cards; returns, extensions, the
//! callback and the three rates; duplicates; clusters that raise proactive tasks.
//!
//! - `domain`: the rules, free of I/O (deadlines, cards, classifier, duplicates, clusters, rates).
//! - `store`: complaints, their history, the taxonomy, proactive tasks, Open311 clients.
//! - `service`: who may do what; `api`, `open311`, `pages`.

pub mod api;
pub use quanban_domain::complaints::domain;
pub mod open311;
pub mod pages;
pub mod service;
pub mod store;
