//! Enterprise-policy integration (惠企政策): the policies' rules in CEL over the enterprise
//! register (`rules`), evaluated exactly (`decimal`), record by record (`eval`, the reference)
//! and column by column over the whole register in memory (`columnar`); why an enterprise gets
//! what it gets (`explain`); the 免申即享 run's decisions (`benefits`), storage (`store`), use
//! cases (`service`) and JSON API (`api`).

pub mod api;
pub mod benefits;
pub mod columnar;
pub mod decimal;
pub mod eval;
pub mod evaluate;
pub mod explain;
pub mod finder;
pub mod library;
pub mod pages;
pub mod rules;
pub mod service;
pub mod store;
pub mod versions;
pub mod window;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod agreement;
