//! Audit log: every state change, and every read of personal data by staff, leaves an entry.
//!
//! Entries are written by [`store::append`] inside the same transaction as the change they
//! describe, so a change without its entry (or the reverse) cannot be committed. Entries form one
//! SM3 hash chain per *stream* (a case, a user, the system…) so that concurrent PostgreSQL writers
//! only queue behind writers of the same stream; periodic global checkpoints seal the heads of
//! all streams so that cutting the tail off a stream is detected too. [`store::verify`] recomputes
//! everything.

pub use quanban_domain::audit::domain;
pub mod store;

pub use domain::{Entry, NewEntry};
