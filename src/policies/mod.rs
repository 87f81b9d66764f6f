//! Enterprise-policy integration (惠企政策): the policies' rules in CEL over the enterprise
//! register (`rules`), evaluated exactly (`decimal`), record by record (`eval`, the reference)
//! and column by column over the whole register in memory (`columnar`).

pub mod columnar;
pub mod decimal;
pub mod eval;
pub mod evaluate;
pub mod library;
pub mod rules;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod agreement;
