//! What several areas use and none owns: the one clock, messages to people (inbox and outbox),
//! the periodic jobs with their leases, personal data at rest (`pii`), random tokens
//! (`tokens`), departments' and people's names (`directory`), uploaded files (`uploads`) and
//! Chinese word segmentation (`words`). Areas import from here, never from each other, for these needs.

pub use quanban_domain::platform::clock;
pub mod directory;
pub mod figures_cache;
pub mod jobs;
pub mod memory;
pub mod notifications;
pub mod pii;
pub use quanban_domain::platform::tokens;
pub mod uploads;
pub use quanban_domain::platform::words;
