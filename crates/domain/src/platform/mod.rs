//! What several areas use: the clock (Beijing time), messages, tokens, word segmentation.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod clock;
pub mod messages;
pub mod tokens;
pub mod words;
