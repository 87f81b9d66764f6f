//! Projects in the database: registering one (with its code), reading projects and their stage
//! applications, and the claim a stage application makes on its project.

use chrono::NaiveDate;
use serde::Serialize;

use crate::audit::{self, NewEntry};
use crate::cases::domain::CaseState;
use crate::projects::{NewProject, StageCase, project_code};
use crate::store::{Db, Row, StoreError, StoreResult, Tx, query};

/// A registered project.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ProjectRecord {
    /// 项目代码, e.g. `2026-370100-48-03-000001`.
    pub code: String,
    pub flow: String,
    pub name: String,
    pub district: String,
    pub location: String,
    pub floor_area_m2: f64,
    pub investment_wan: f64,
    pub enterprise: String,
    pub enterprise_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const COLUMNS: &str = "code, flow, name, district, location, floor_area_m2, investment_wan, enterprise, \
                       enterprise_name, created_at, updated_at, version";

fn from_row(r: &Row) -> StoreResult<ProjectRecord> {
    Ok(ProjectRecord {
        code: r.try_get("code")?,
        flow: r.try_get("flow")?,
        name: r.try_get("name")?,
        district: r.try_get("district")?,
        location: r.try_get("location")?,
        floor_area_m2: r.try_get("floor_area_m2")?,
        investment_wan: r.try_get("investment_wan")?,
        enterprise: r.try_get("enterprise")?,
        enterprise_name: r.try_get("enterprise_name")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
    })
}

/// Registers a checked project; returns its code (the year's next number).
pub async fn create(
    db: &Db,
    p: NewProject,
    enterprise_name: String,
    year: i32,
    by: String,
) -> StoreResult<String> {
    let now = db.now_text();
    db.write(move |conn| {
        let last: i64 = query(
            "INSERT INTO project_counters (year, last) VALUES ($1, 1) \
             ON CONFLICT (year) DO UPDATE SET last = project_counters.last + 1 RETURNING last",
        )
        .bind(i64::from(year))
        .fetch_one(&mut *conn)?
        .try_get("last")?;
        let code = project_code(year, u32::try_from(last).unwrap_or(u32::MAX));
        query(
            "INSERT INTO projects (code, flow, name, district, location, floor_area_m2, investment_wan, enterprise, \
             enterprise_name, created_by, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1)",
        )
        .bind(&code)
        .bind(&p.flow)
        .bind(&p.name)
        .bind(&p.district)
        .bind(&p.location)
        .bind(p.floor_area_m2.unwrap_or_default())
        .bind(p.investment_wan.unwrap_or_default())
        .bind(&p.enterprise)
        .bind(&enterprise_name)
        .bind(&by)
        .bind(&now)
        .execute(&mut *conn)?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("project:{code}"),
                format!("user:{by}"),
                "project.create",
                format!("project:{code}"),
                format!("{} registered for {}", p.name, p.enterprise),
            ),
        )?;
        Ok(code)
    })
    .await
}

pub async fn get(db: &Db, code: &str) -> StoreResult<Option<ProjectRecord>> {
    let row =
        query(format!("SELECT {COLUMNS} FROM projects WHERE code = $1")).bind(code).read_optional(db).await?;
    row.as_ref().map(from_row).transpose()
}

/// The projects of these enterprises, newest first.
pub async fn of_enterprises(db: &Db, enterprises: &[String]) -> StoreResult<Vec<ProjectRecord>> {
    let mut out = Vec::new();
    for e in enterprises {
        let rows =
            query(format!("SELECT {COLUMNS} FROM projects WHERE enterprise = $1 ORDER BY created_at DESC"))
                .bind(e)
                .read_all(db)
                .await?;
        for r in &rows {
            out.push(from_row(r)?);
        }
    }
    out.sort_by(|a, b| b.created_at.cmp(&a.created_at));
    Ok(out)
}

/// Every project, newest first (the supervision view).
pub async fn all(db: &Db, limit: i64) -> StoreResult<Vec<ProjectRecord>> {
    let rows = query(format!("SELECT {COLUMNS} FROM projects ORDER BY created_at DESC LIMIT $1"))
        .bind(limit)
        .read_all(db)
        .await?;
    rows.iter().map(from_row).collect()
}

/// A project's stage applications as the clocks read them, with the departments their parts
/// are with.
#[derive(Clone, Debug, Default)]
pub struct StageRows {
    pub cases: Vec<StageCase>,
    pub departments: Vec<String>,
}

/// The stage applications of a project.
pub async fn stage_cases(db: &Db, code: &str) -> StoreResult<StageRows> {
    // A stage passes when its bundle is finished and every part was approved; the day it
    // finished is the day the bundle last changed.
    let rows = query(
        "SELECT c.number, c.project_stage, c.state, c.submitted_at, c.updated_at, \
         (SELECT COUNT(*) FROM cases k WHERE k.parent_number = c.number \
            AND (k.decision IS NULL OR k.decision <> 'approved')) AS not_approved \
         FROM cases c WHERE c.project_code = $1 ORDER BY c.number",
    )
    .bind(code)
    .read_all(db)
    .await?;
    let mut out = StageRows::default();
    for r in &rows {
        let state: String = r.try_get("state")?;
        let state =
            CaseState::parse(&state).ok_or_else(|| StoreError::Invalid(format!("case state {state}")))?;
        let stage: i64 = r.try_get("project_stage")?;
        let submitted: String = r.try_get("submitted_at")?;
        let updated: String = r.try_get("updated_at")?;
        let not_approved: i64 = r.try_get("not_approved")?;
        let finished = matches!(
            state,
            CaseState::Closed | CaseState::Delivered | CaseState::NotAccepted | CaseState::Withdrawn
        );
        out.cases.push(StageCase {
            stage: u8::try_from(stage).unwrap_or(0),
            number: r.try_get("number")?,
            state,
            submitted: day_of(&submitted)?,
            finished: if finished { Some(day_of(&updated)?) } else { None },
            all_approved: not_approved == 0,
        });
    }
    let depts = query(
        "SELECT DISTINCT k.department FROM cases k JOIN cases c ON k.parent_number = c.number \
         WHERE c.project_code = $1 ORDER BY k.department",
    )
    .bind(code)
    .read_all(db)
    .await?;
    for r in &depts {
        out.departments.push(r.try_get("department")?);
    }
    Ok(out)
}

fn day_of(stored: &str) -> StoreResult<NaiveDate> {
    crate::platform::clock::parse_time(stored)
        .map(crate::platform::clock::beijing_date)
        .ok_or_else(|| StoreError::Invalid(format!("time {stored}")))
}

/// Claims the project for a stage application at the version the stage was allowed on: a second
/// application decided on the same reading loses here and writes nothing.
pub fn claim_for_stage(conn: &mut dyn Tx, now: &str, code: &str, version: i64) -> StoreResult<()> {
    let claimed =
        query("UPDATE projects SET updated_at = $1, version = version + 1 WHERE code = $2 AND version = $3")
            .bind(now)
            .bind(code)
            .bind(version)
            .execute(&mut *conn)?;
    if claimed.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(())
}
