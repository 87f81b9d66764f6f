//! People, enterprises and staff: checked identifiers (GB 11643, GB 32100) and the one access decision.
//!
//! The pure part of the area; its store, services and pages are in the `quanban` crate, which
//! re-exports these modules at the same paths.

pub mod authz;
pub mod domain;
pub mod qr_login;
