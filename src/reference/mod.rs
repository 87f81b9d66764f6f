//! Reference data shipped with the platform (departments, halls, catalog, bundles, e-licence
//! types, holidays, policies): typed and checked in `data`, loaded into the database by `seed`.

pub mod data;
pub mod seed;
