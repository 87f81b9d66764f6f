//! Cases (办件): applications for a catalog item or a bundle, from submission to delivery.
//!
//! - `domain`: the state machine, who may take which action, deadlines in working days with the
//!   clock paused during supplements (补正), traffic lights, case numbers. Pure and tested.
//!
//! Storage, the JSON API and the pages follow in the cases issue.

pub mod domain;
