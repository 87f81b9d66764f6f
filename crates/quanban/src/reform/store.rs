//! Reform tasks in the database. An import inserts its tasks in one write (a code that exists
//! refuses the whole file); a report and a review each claim the milestone at the version read
//! and in the status the step starts from, so of two at once one wins and the other changes
//! nothing.

use std::collections::HashSet;

use serde::Serialize;

use crate::audit::{self, NewEntry};
use crate::reform::{Evidence, MilestoneStatus, NewTask};
use crate::store::{Db, Row, StoreError, StoreResult, query};

/// A reform task with its milestones.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub code: String,
    pub title: String,
    pub area: String,
    pub description: String,
    pub lead: String,
    pub supporting: Vec<String>,
    pub created_at: String,
    pub milestones: Vec<Milestone>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Milestone {
    pub seq: i64,
    pub title: String,
    pub due_on: String,
    pub needs_evidence: bool,
    pub status: MilestoneStatus,
    pub report: Option<String>,
    pub evidence: Vec<Evidence>,
    pub reported_by_name: Option<String>,
    pub reported_at: Option<String>,
    pub review_comment: Option<String>,
    pub reviewed_by_name: Option<String>,
    pub reviewed_at: Option<String>,
    pub accepted_on: Option<String>,
    pub version: i64,
    pub events: Vec<Event>,
}

/// One step in a milestone's history.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub at: String,
    pub actor_name: String,
    /// `report`, `accept` or `return`.
    pub kind: String,
    pub text: String,
}

pub async fn codes(db: &Db) -> StoreResult<HashSet<String>> {
    query("SELECT code FROM reform_tasks")
        .read_all(db)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("code")?))
        .collect()
}

/// Records imported tasks; `Duplicate` (nothing written) when a code exists already.
pub async fn insert(db: &Db, tasks: Vec<NewTask>, actor: String) -> StoreResult<usize> {
    let now = db.now_text();
    db.write(move |conn| {
        for t in &tasks {
            let inserted = query(
                "INSERT INTO reform_tasks (code, title, area, description, lead_department, supporting, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (code) DO NOTHING",
            )
            .bind(&t.code)
            .bind(&t.title)
            .bind(&t.area)
            .bind(&t.description)
            .bind(&t.lead)
            .bind(serde_json::to_string(&t.supporting).unwrap_or_else(|_| "[]".into()))
            .bind(&actor)
            .bind(&now)
            .execute(&mut *conn)?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::Duplicate("task code"));
            }
            for (i, m) in t.milestones.iter().enumerate() {
                query(
                    "INSERT INTO reform_milestones (task_code, seq, title, due_on, needs_evidence, status, evidence, version) \
                     VALUES ($1, $2, $3, $4, $5, 'pending', '[]', 1)",
                )
                .bind(&t.code)
                .bind(i as i64 + 1)
                .bind(&m.title)
                .bind(m.due_on.format("%Y-%m-%d").to_string())
                .bind(i64::from(m.needs_evidence))
                .execute(&mut *conn)?;
            }
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("reform:{}", t.code),
                    actor.clone(),
                    "reform.import",
                    t.code.clone(),
                    format!("{} milestones, lead {}", t.milestones.len(), t.lead),
                ),
            )?;
        }
        Ok(tasks.len())
    })
    .await
}

const MILESTONE_COLUMNS: &str = "task_code, seq, title, due_on, needs_evidence, status, report, evidence, \
    reported_by_name, reported_at, review_comment, reviewed_by_name, reviewed_at, accepted_on, version";

fn milestone_from(r: &Row) -> StoreResult<Milestone> {
    let status: String = r.try_get("status")?;
    let evidence: String = r.try_get("evidence")?;
    Ok(Milestone {
        seq: r.try_get("seq")?,
        title: r.try_get("title")?,
        due_on: r.try_get("due_on")?,
        needs_evidence: r.try_get::<i64, _>("needs_evidence")? != 0,
        status: MilestoneStatus::parse(&status).unwrap_or(MilestoneStatus::Pending),
        report: r.try_get("report")?,
        evidence: serde_json::from_str(&evidence).unwrap_or_default(),
        reported_by_name: r.try_get("reported_by_name")?,
        reported_at: r.try_get("reported_at")?,
        review_comment: r.try_get("review_comment")?,
        reviewed_by_name: r.try_get("reviewed_by_name")?,
        reviewed_at: r.try_get("reviewed_at")?,
        accepted_on: r.try_get("accepted_on")?,
        version: r.try_get("version")?,
        events: Vec::new(),
    })
}

fn task_from(r: &Row) -> StoreResult<Task> {
    let supporting: String = r.try_get("supporting")?;
    Ok(Task {
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        area: r.try_get("area")?,
        description: r.try_get("description")?,
        lead: r.try_get("lead_department")?,
        supporting: serde_json::from_str(&supporting).unwrap_or_default(),
        created_at: r.try_get("created_at")?,
        milestones: Vec::new(),
    })
}

/// Every task with its milestones (without their histories), by code.
pub async fn list(db: &Db) -> StoreResult<Vec<Task>> {
    let mut tasks: Vec<Task> = query("SELECT * FROM reform_tasks ORDER BY code")
        .read_all(db)
        .await?
        .iter()
        .map(task_from)
        .collect::<StoreResult<_>>()?;
    let rows = query(format!("SELECT {MILESTONE_COLUMNS} FROM reform_milestones ORDER BY task_code, seq"))
        .read_all(db)
        .await?;
    for r in rows {
        let code: String = r.try_get("task_code")?;
        if let Some(t) = tasks.iter_mut().find(|t| t.code == code) {
            t.milestones.push(milestone_from(&r)?);
        }
    }
    Ok(tasks)
}

/// One task with its milestones and their histories.
pub async fn get(db: &Db, code: &str) -> StoreResult<Option<Task>> {
    let Some(row) = query("SELECT * FROM reform_tasks WHERE code = $1").bind(code).read_optional(db).await?
    else {
        return Ok(None);
    };
    let mut task = task_from(&row)?;
    for r in
        query(format!("SELECT {MILESTONE_COLUMNS} FROM reform_milestones WHERE task_code = $1 ORDER BY seq"))
            .bind(code)
            .read_all(db)
            .await?
    {
        task.milestones.push(milestone_from(&r)?);
    }
    for r in
        query("SELECT seq, at, actor_name, kind, text FROM reform_events WHERE task_code = $1 ORDER BY at")
            .bind(code)
            .read_all(db)
            .await?
    {
        let seq: i64 = r.try_get("seq")?;
        if let Some(m) = task.milestones.iter_mut().find(|m| m.seq == seq) {
            m.events.push(Event {
                at: r.try_get("at")?,
                actor_name: r.try_get("actor_name")?,
                kind: r.try_get("kind")?,
                text: r.try_get("text")?,
            });
        }
    }
    Ok(Some(task))
}

/// Who did a step, for the record.
pub struct Actor {
    pub id: String,
    pub name: String,
}

/// The lead unit's report: claims the milestone at `version` while it waits for one.
pub async fn report(
    db: &Db,
    code: String,
    seq: i64,
    version: i64,
    text: String,
    evidence: Vec<Evidence>,
    actor: Actor,
) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        let claimed = query(
            "UPDATE reform_milestones SET status = 'reported', report = $1, evidence = $2, reported_by_name = $3, \
             reported_at = $4, version = version + 1 \
             WHERE task_code = $5 AND seq = $6 AND version = $7 AND status IN ('pending', 'returned')",
        )
        .bind(&text)
        .bind(serde_json::to_string(&evidence).unwrap_or_else(|_| "[]".into()))
        .bind(&actor.name)
        .bind(&now)
        .bind(&code)
        .bind(seq)
        .bind(version)
        .execute(&mut *conn)?;
        if claimed.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        event(conn, &code, seq, &now, &actor.name, "report", &text)?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("reform:{code}"),
                actor.id.clone(),
                "reform.report",
                format!("{code}#{seq}"),
                format!("{} evidence", evidence.len()),
            ),
        )?;
        Ok(())
    })
    .await
}

/// The supervision office's review: claims the reported milestone at `version`.
#[allow(clippy::too_many_arguments)]
pub async fn review(
    db: &Db,
    code: String,
    seq: i64,
    version: i64,
    status: MilestoneStatus,
    comment: String,
    accepted_on: Option<String>,
    actor: Actor,
) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        let claimed = query(
            "UPDATE reform_milestones SET status = $1, review_comment = $2, reviewed_by_name = $3, reviewed_at = $4, \
             accepted_on = $5, version = version + 1 \
             WHERE task_code = $6 AND seq = $7 AND version = $8 AND status = 'reported'",
        )
        .bind(status.as_str())
        .bind(&comment)
        .bind(&actor.name)
        .bind(&now)
        .bind(&accepted_on)
        .bind(&code)
        .bind(seq)
        .bind(version)
        .execute(&mut *conn)?;
        if claimed.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        let kind = if status == MilestoneStatus::Accepted { "accept" } else { "return" };
        event(conn, &code, seq, &now, &actor.name, kind, &comment)?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(format!("reform:{code}"), actor.id.clone(), format!("reform.{kind}"), format!("{code}#{seq}"), comment.clone()),
        )?;
        Ok(())
    })
    .await
}

fn event(
    conn: &mut dyn crate::store::sql::Tx,
    code: &str,
    seq: i64,
    at: &str,
    actor: &str,
    kind: &str,
    text: &str,
) -> StoreResult<()> {
    query("INSERT INTO reform_events (task_code, seq, at, actor_name, kind, text) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(code)
        .bind(seq)
        .bind(at)
        .bind(actor)
        .bind(kind)
        .bind(text)
        .execute(conn)?;
    Ok(())
}

/// A head of `department` (the first by id), who is told of its late milestones.
pub async fn head_of(db: &Db, department: &str) -> StoreResult<Option<String>> {
    Ok(query(
        "SELECT user_id FROM user_roles WHERE role = 'department_head' AND department = $1 ORDER BY user_id",
    )
    .bind(department)
    .read_optional(db)
    .await?
    .map(|r| r.try_get("user_id"))
    .transpose()?)
}
