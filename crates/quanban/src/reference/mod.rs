//! Reference data shipped with the platform (departments, halls, catalog, bundles, e-licence
//! types, holidays, policies): typed and checked in `data`, loaded into the database by `seed`.

pub mod seed;

pub use quanban_domain::reference::{DISTRICTS, data};
