//! Who is who: departments' names and people's display names.
//!
//! Many areas show them (case pages, complaint desks, rating figures, assistance notes). The
//! reference data owns the departments table and identity owns the users, so areas look names
//! up here instead of in each other's stores.

use std::collections::BTreeMap;

use crate::store::{Db, StoreError, StoreResult, query};

/// Every department's code and Chinese name. A row that cannot be read is an error, never left
/// out silently.
pub async fn department_names(db: &Db) -> StoreResult<BTreeMap<String, String>> {
    let rows = query("SELECT code, name FROM departments").read_all(db).await?;
    rows.iter().map(|r| Ok((r.try_get("code")?, r.try_get("name")?))).collect()
}

/// A department's name (its code when unknown: an old record may name a department that the
/// reference data no longer lists).
pub async fn department_name(db: &Db, code: &str) -> StoreResult<String> {
    let row = query("SELECT name FROM departments WHERE code = $1").bind(code).read_optional(db).await?;
    Ok(row.map(|r| r.try_get("name")).transpose()?.unwrap_or_else(|| code.to_string()))
}

/// A user's display name.
pub async fn user_name(db: &Db, user_id: &str) -> StoreResult<String> {
    let row = query("SELECT name FROM users WHERE id = $1").bind(user_id).read_optional(db).await?;
    row.map(|r| r.try_get("name")).transpose()?.ok_or(StoreError::NotFound)
}
