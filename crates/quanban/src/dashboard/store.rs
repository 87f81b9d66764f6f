//! What the dashboard reads beyond the assessment's sums and the open cases: complaints by day
//! and place, what monitoring raised, open orders. Every query takes the department (or none
//! for the whole city) and the period as stored instants, `[from, to)`.

use chrono::NaiveDate;

use crate::store::{Db, StoreResult, query};

/// A complaint with a place, for the map.
pub struct Point {
    pub id: String,
    pub lat: f64,
    pub lon: f64,
}

/// Complaints of the period received each Beijing day (summed in the database by the UTC day
/// and whether from 16:00 UTC on, which is the next Beijing day).
pub async fn complaints_per_day(
    db: &Db,
    from: &str,
    to: &str,
    department: Option<&str>,
) -> StoreResult<Vec<(NaiveDate, i64)>> {
    let rows = query(
        "SELECT substr(created_at, 1, 10) AS utc_day, CASE WHEN substr(created_at, 12, 2) >= '16' THEN 1 ELSE 0 END AS evening, \
         COUNT(*) AS n FROM complaints WHERE created_at >= $1 AND created_at < $2 AND status <> 'merged' \
         AND (CAST($3 AS TEXT) IS NULL OR department = $3) \
         GROUP BY substr(created_at, 1, 10), CASE WHEN substr(created_at, 12, 2) >= '16' THEN 1 ELSE 0 END",
    )
    .bind(from)
    .bind(to)
    .bind(department)
    .read_all(db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (day, evening, n): (String, i64, i64) =
            (r.try_get("utc_day")?, r.try_get("evening")?, r.try_get("n")?);
        if let Ok(day) = day.parse::<NaiveDate>() {
            out.push((if evening == 1 { day + chrono::Duration::days(1) } else { day }, n));
        }
    }
    Ok(out)
}

/// Complaints of the period by district (none: not placed).
pub async fn complaints_by_district(
    db: &Db,
    from: &str,
    to: &str,
    department: Option<&str>,
) -> StoreResult<Vec<(Option<String>, i64)>> {
    let rows = query(
        "SELECT district, COUNT(*) AS n FROM complaints WHERE created_at >= $1 AND created_at < $2 \
         AND status <> 'merged' AND (CAST($3 AS TEXT) IS NULL OR department = $3) \
         GROUP BY district ORDER BY n DESC, district",
    )
    .bind(from)
    .bind(to)
    .bind(department)
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("district")?, r.try_get("n")?))).collect()
}

/// The placed complaints of the period, newest first (at most `limit`: a map of more says no
/// more).
pub async fn complaint_points(
    db: &Db,
    from: &str,
    to: &str,
    department: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Point>> {
    let rows = query(
        "SELECT id, lat, lon FROM complaints WHERE created_at >= $1 AND created_at < $2 AND status <> 'merged' \
         AND lat IS NOT NULL AND lon IS NOT NULL AND (CAST($3 AS TEXT) IS NULL OR department = $3) \
         ORDER BY created_at DESC LIMIT $4",
    )
    .bind(from)
    .bind(to)
    .bind(department)
    .bind(limit)
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok(Point { id: r.try_get("id")?, lat: r.try_get("lat")?, lon: r.try_get("lon")? }))
        .collect()
}

/// What monitoring raised in the period: (subject, level) pairs.
pub async fn alerts(
    db: &Db,
    from: &str,
    to: &str,
    department: Option<&str>,
) -> StoreResult<Vec<(String, String)>> {
    let rows = query(
        "SELECT subject, level FROM monitoring_alerts WHERE raised_at >= $1 AND raised_at < $2 \
         AND (CAST($3 AS TEXT) IS NULL OR department = $3)",
    )
    .bind(from)
    .bind(to)
    .bind(department)
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("subject")?, r.try_get("level")?))).collect()
}

/// Supervision orders still open now.
pub async fn open_orders(db: &Db, department: Option<&str>) -> StoreResult<i64> {
    let row = query(
        "SELECT COUNT(*) AS n FROM supervision_orders WHERE status = 'open' \
         AND (CAST($1 AS TEXT) IS NULL OR department = $1)",
    )
    .bind(department)
    .read_one(db)
    .await?;
    Ok(row.try_get("n")?)
}
