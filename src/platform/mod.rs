//! What several areas use and none owns: today the one clock. Areas import from here, never from
//! each other, for these needs.

pub mod clock;
