//! 好差评 (good/bad reviews): a finished case (一事一评), a hall visit (一次一评) or a complaint's
//! handling is rated once, on five levels with sub-indicators, through any channel; a bad review
//! runs a loop of verification, rectification and revisit with deadlines, or an appeal; the
//! figures are published per department, item, hall and officer.
//!
//! - `domain`: levels, channels, indicators, the one-tap link's token, the loop, the figures.
//! - `store`: ratings and loops; `service`: who may do what; `api`, `pages`.

pub mod api;
pub use quanban_domain::feedback::domain;
pub mod pages;
pub mod service;
pub mod store;
