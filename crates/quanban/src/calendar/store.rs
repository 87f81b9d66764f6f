//! Holiday years in the database.

use super::domain::{Calendar, CalendarError, HolidayYear};
use crate::audit::{self, NewEntry};
use crate::store::{Db, StoreError, StoreResult, Tx, query};

pub fn upsert_year(conn: &mut dyn Tx, now: &str, year: &HolidayYear, source: &str) -> StoreResult<()> {
    let off = serde_json::to_string(&year.off).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let work = serde_json::to_string(&year.work).map_err(|e| StoreError::Invalid(e.to_string()))?;
    query(
        "INSERT INTO holiday_years (year, off_days, work_days, source, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (year) DO UPDATE SET off_days = excluded.off_days, work_days = excluded.work_days, \
         source = excluded.source, updated_at = excluded.updated_at",
    )
    .bind(i64::from(year.year))
    .bind(off)
    .bind(work)
    .bind(source)
    .bind(now)
    .execute(&mut *conn)?;
    Ok(())
}

/// Adds or replaces one year, audited, after validating it.
pub async fn put_year(db: &Db, actor: String, year: HolidayYear) -> Result<(), PutYearError> {
    year.validate().map_err(PutYearError::Invalid)?;
    let now = db.now_text();
    db.write(move |conn| {
        upsert_year(conn, &now, &year, "administrator")?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                "calendar",
                actor,
                "calendar.year_set",
                format!("calendar:{}", year.year),
                format!(
                    "{}: {} days off, {} working weekend days",
                    year.year,
                    year.off.len(),
                    year.work.len()
                ),
            ),
        )
        .map(|_| ())
    })
    .await
    .map_err(PutYearError::Store)
}

#[derive(Debug, thiserror::Error)]
pub enum PutYearError {
    #[error(transparent)]
    Invalid(CalendarError),
    #[error(transparent)]
    Store(StoreError),
}

/// Builds the calendar from every stored year.
pub async fn load(db: &Db) -> anyhow::Result<Calendar> {
    let rows =
        query("SELECT year, off_days, work_days FROM holiday_years ORDER BY year").read_all(db).await?;
    let mut years = Vec::with_capacity(rows.len());
    for r in rows {
        let year: i64 = r.try_get("year")?;
        let off: String = r.try_get("off_days")?;
        let work: String = r.try_get("work_days")?;
        years.push(HolidayYear {
            year: i32::try_from(year)?,
            off: serde_json::from_str(&off)?,
            work: serde_json::from_str(&work)?,
        });
    }
    Ok(Calendar::new(years)?)
}
