//! 电子证照 and 电子印章: licence types, Data Integrity proofs, sealing, key wrapping, seal images.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod domain;
pub mod keys;
pub mod proof;
pub mod seal_image;
pub mod sealing;
