//! What several areas use and none owns: the one clock, messages to people (inbox and outbox),
//! the periodic jobs with their leases, personal data at rest (`pii`) and random tokens
//! (`tokens`). Areas import from here, never from each other, for these needs.

pub mod clock;
pub mod jobs;
pub mod notifications;
pub mod pii;
pub mod tokens;
