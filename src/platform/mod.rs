//! What several areas use and none owns: the one clock, messages to people (inbox and outbox),
//! and the periodic jobs with their leases. Areas import from here, never from each other, for
//! these needs.

pub mod clock;
pub mod jobs;
pub mod notifications;
