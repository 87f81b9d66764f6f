//! Ratings, the bad-review loop and what the figures are computed from.

use serde::Serialize;

use crate::audit::{self, NewEntry};
use crate::store::{Db, Row, StoreError, StoreResult, Tx, query};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Rating {
    pub id: String,
    /// `case`, `visit` or `complaint`.
    pub object_kind: String,
    pub object_id: String,
    pub department: String,
    pub item_code: Option<String>,
    pub hall_code: Option<String>,
    pub officer_id: Option<String>,
    #[serde(skip)]
    pub rater_id: Option<String>,
    /// Real-name (实名) or anonymous (匿名).
    pub real_name: bool,
    pub score: i64,
    #[schema(value_type = Object)]
    pub indicators: serde_json::Value,
    pub comment: Option<String>,
    pub channel: String,
    pub served_on: String,
    pub created_at: String,
    pub excluded: bool,
}

const RATING_COLUMNS: &str = "id, object_kind, object_id, department, item_code, hall_code, officer_id, rater_id, \
    real_name, score, indicators, comment, channel, served_on, created_at, excluded";

fn rating_from_row(r: &Row) -> StoreResult<Rating> {
    let indicators: String = r.try_get("indicators")?;
    Ok(Rating {
        id: r.try_get("id")?,
        object_kind: r.try_get("object_kind")?,
        object_id: r.try_get("object_id")?,
        department: r.try_get("department")?,
        item_code: r.try_get("item_code")?,
        hall_code: r.try_get("hall_code")?,
        officer_id: r.try_get("officer_id")?,
        rater_id: r.try_get("rater_id")?,
        real_name: r.try_get::<i64, _>("real_name")? != 0,
        score: r.try_get("score")?,
        indicators: serde_json::from_str(&indicators).map_err(|e| StoreError::Invalid(e.to_string()))?,
        comment: r.try_get("comment")?,
        channel: r.try_get("channel")?,
        served_on: r.try_get("served_on")?,
        created_at: r.try_get("created_at")?,
        excluded: r.try_get::<i64, _>("excluded")? != 0,
    })
}

pub async fn rating(db: &Db, id: &str) -> StoreResult<Option<Rating>> {
    let row = query(format!("SELECT {RATING_COLUMNS} FROM ratings WHERE id = $1"))
        .bind(id)
        .read_optional(db)
        .await?;
    row.as_ref().map(rating_from_row).transpose()
}

pub async fn rating_of(db: &Db, kind: &str, object: &str) -> StoreResult<Option<Rating>> {
    let row =
        query(format!("SELECT {RATING_COLUMNS} FROM ratings WHERE object_kind = $1 AND object_id = $2"))
            .bind(kind)
            .bind(object)
            .read_optional(db)
            .await?;
    row.as_ref().map(rating_from_row).transpose()
}

pub async fn ratings_by(db: &Db, rater: &str) -> StoreResult<Vec<Rating>> {
    let rows = query(format!(
        "SELECT {RATING_COLUMNS} FROM ratings WHERE rater_id = $1 ORDER BY created_at DESC LIMIT 200"
    ))
    .bind(rater)
    .read_all(db)
    .await?;
    rows.iter().map(rating_from_row).collect()
}

/// A new rating and, for a bad one, its loop's deadlines.
pub struct NewRating {
    pub rating: Rating,
    pub loop_dues: Option<(String, String)>,
}

/// Stores a rating (and opens the loop for a bad one); `Duplicate` if the object was rated.
pub async fn add(db: &Db, n: NewRating) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {

            let r = &n.rating;
            let inserted = query(format!(
                "INSERT INTO ratings ({RATING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
                 $14, $15, 0) ON CONFLICT (object_kind, object_id) DO NOTHING"
            ))
            .bind(&r.id)
            .bind(&r.object_kind)
            .bind(&r.object_id)
            .bind(&r.department)
            .bind(&r.item_code)
            .bind(&r.hall_code)
            .bind(&r.officer_id)
            .bind(&r.rater_id)
            .bind(i64::from(r.real_name))
            .bind(r.score)
            .bind(r.indicators.to_string())
            .bind(&r.comment)
            .bind(&r.channel)
            .bind(&r.served_on)
            .bind(&r.created_at)
            .execute(&mut *conn)?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::Duplicate("rating"));
            }
            if let Some((verify_due, rectify_due)) = &n.loop_dues {
                query(
                    "INSERT INTO rectifications (rating_id, department, status, verify_due, rectify_due, created_at, \
                     updated_at) VALUES ($1, $2, 'assigned', $3, $4, $5, $5)",
                )
                .bind(&r.id)
                .bind(&r.department)
                .bind(verify_due)
                .bind(rectify_due)
                .bind(&r.created_at)
                .execute(&mut *conn)?;
                event(conn, &now, &r.id, "系统 System", "assigned", Some(format!("差评转{}核实整改 / assigned", r.department)))?;
            }
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("rating:{}", r.id),
                    r.rater_id.as_ref().map(|u| format!("user:{u}")).unwrap_or_else(|| "anonymous".into()),
                    "rating.given",
                    format!("{}:{}", r.object_kind, r.object_id),
                    format!("score {} via {}", r.score, r.channel),
                ),
            )?;
            Ok(())

    })
    .await
}

fn event(
    conn: &mut dyn Tx,
    now: &str,
    id: &str,
    actor: &str,
    action: &str,
    note: Option<String>,
) -> StoreResult<()> {
    let seq: i64 =
        query("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM rectification_events WHERE rating_id = $1")
            .bind(id)
            .fetch_one(&mut *conn)?
            .try_get("n")?;
    query(
        "INSERT INTO rectification_events (rating_id, seq, at, actor_name, action, note) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(seq)
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(note)
    .execute(&mut *conn)?;
    Ok(())
}

pub use super::domain::{LoopEvent, LoopStatus, Rectification};

const LOOP_COLUMNS: &str = "rating_id, department, status, appeal_from, verify_due, rectify_due, verified_at, verify_note, \
    answer, rectified_at, on_time, revisited_at, satisfied, reopened, appeal_reason, appeal_decision, closed_at, version";

/// A stored loop status; an unknown one is corrupt data, never a default.
fn loop_status(r: &Row, column: &str) -> StoreResult<Option<LoopStatus>> {
    match r.try_get::<Option<String>, _>(column)? {
        None => Ok(None),
        Some(s) => LoopStatus::parse(&s)
            .map(Some)
            .ok_or_else(|| StoreError::Invalid(format!("stored {column} {s:?} is no loop status"))),
    }
}

fn loop_from_row(r: &Row) -> StoreResult<Rectification> {
    let flag = |c: &str| -> StoreResult<Option<bool>> { Ok(r.try_get::<Option<i64>, _>(c)?.map(|v| v != 0)) };
    Ok(Rectification {
        rating_id: r.try_get("rating_id")?,
        department: r.try_get("department")?,
        status: loop_status(r, "status")?
            .ok_or_else(|| StoreError::Invalid("stored rectifications.status is empty".into()))?,
        appeal_from: loop_status(r, "appeal_from")?,
        verify_due: r.try_get("verify_due")?,
        rectify_due: r.try_get("rectify_due")?,
        verified_at: r.try_get("verified_at")?,
        verify_note: r.try_get("verify_note")?,
        answer: r.try_get("answer")?,
        rectified_at: r.try_get("rectified_at")?,
        on_time: flag("on_time")?,
        revisited_at: r.try_get("revisited_at")?,
        satisfied: flag("satisfied")?,
        reopened: r.try_get::<i64, _>("reopened")? != 0,
        appeal_reason: r.try_get("appeal_reason")?,
        appeal_decision: r.try_get("appeal_decision")?,
        closed_at: r.try_get("closed_at")?,
        version: r.try_get("version")?,
        events: Vec::new(),
    })
}

pub async fn rectification(db: &Db, rating_id: &str) -> StoreResult<Option<Rectification>> {
    let row = query(format!("SELECT {LOOP_COLUMNS} FROM rectifications WHERE rating_id = $1"))
        .bind(rating_id)
        .read_optional(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut r = loop_from_row(&row)?;
    let events = query(
        "SELECT at, actor_name, action, note FROM rectification_events WHERE rating_id = $1 ORDER BY seq",
    )
    .bind(rating_id)
    .read_all(db)
    .await?;
    r.events = events
        .iter()
        .map(|e| {
            Ok(LoopEvent {
                at: e.try_get("at")?,
                actor_name: e.try_get("actor_name")?,
                action: e.try_get("action")?,
                note: e.try_get("note")?,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(Some(r))
}

/// Bad reviews of a department (all departments for `None`) with their ratings, open ones
/// first (one query: the desk lists up to 500).
pub async fn rectifications(db: &Db, department: Option<&str>) -> StoreResult<Vec<(Rating, Rectification)>> {
    let columns = |prefix: &str, list: &str| {
        list.split(',').map(|c| format!("{prefix}.{}", c.trim())).collect::<Vec<_>>().join(", ")
    };
    let loop_columns = LOOP_COLUMNS.replace("department, ", "");
    let rows = query(format!(
        "SELECT {}, {} FROM rectifications l JOIN ratings r ON r.id = l.rating_id \
         WHERE (CAST($1 AS TEXT) IS NULL OR l.department = $1) \
         ORDER BY CASE WHEN l.status IN ('closed', 'excluded') THEN 1 ELSE 0 END, l.created_at DESC LIMIT 500",
        columns("r", RATING_COLUMNS),
        columns("l", &loop_columns)
    ))
    .bind(department)
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((rating_from_row(r)?, loop_from_row(r)?))).collect()
}

/// One step of a bad review's loop, as it is to be written.
pub struct LoopChange {
    /// The loop as it becomes.
    pub rectification: Rectification,
    /// The version the actor saw.
    pub expected: i64,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub note: Option<String>,
    /// A message for the rater's inbox: (user, what it is about, the message).
    pub notify: Option<(String, Option<String>, crate::platform::notifications::Message)>,
}

/// Writes the loop as it becomes (if its version is still `expected`), with the history entry,
/// an upheld appeal's exclusion, the rater's message and the audit entry.
pub async fn save_loop(db: &Db, change: LoopChange) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {

            let LoopChange { rectification: r, expected, actor_id, actor_name, action, note, notify } = change;
            let b = |v: Option<bool>| v.map(i64::from);
            let done = query(
                "UPDATE rectifications SET status = $1, appeal_from = $2, verify_due = $3, rectify_due = $4, \
                 verified_at = $5, verify_note = $6, answer = $7, rectified_at = $8, on_time = $9, revisited_at = $10, \
                 satisfied = $11, reopened = $12, appeal_reason = $13, appeal_decision = $14, closed_at = $15, \
                 updated_at = $16, version = version + 1 WHERE rating_id = $17 AND version = $18",
            )
            .bind(r.status.as_str())
            .bind(r.appeal_from.map(LoopStatus::as_str))
            .bind(&r.verify_due)
            .bind(&r.rectify_due)
            .bind(&r.verified_at)
            .bind(&r.verify_note)
            .bind(&r.answer)
            .bind(&r.rectified_at)
            .bind(b(r.on_time))
            .bind(&r.revisited_at)
            .bind(b(r.satisfied))
            .bind(i64::from(r.reopened))
            .bind(&r.appeal_reason)
            .bind(&r.appeal_decision)
            .bind(&r.closed_at)
            .bind(&now)
            .bind(&r.rating_id)
            .bind(expected)
            .execute(&mut *conn)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            if r.status == LoopStatus::Excluded {
                query("UPDATE ratings SET excluded = 1 WHERE id = $1").bind(&r.rating_id).execute(&mut *conn)?;
            }
            event(conn, &now, &r.rating_id, &actor_name, &action, note.clone())?;
            if let Some((user, subject, message)) = notify {
                crate::platform::notifications::notify(conn, &now, 0, &user, subject.as_deref(), &message, None)?;
            }
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("rating:{}", r.rating_id),
                    format!("user:{actor_id}"),
                    format!("rating.{action}"),
                    format!("rating:{}", r.rating_id),
                    note.unwrap_or_default(),
                ),
            )?;
            Ok(())

    })
    .await
}

/// One rating with its loop's outcome, for the figures.
pub struct FactRow {
    pub department: String,
    pub item_code: Option<String>,
    pub hall_code: Option<String>,
    pub officer_id: Option<String>,
    pub facts: super::domain::RatingFacts,
}

/// Every rating given in `[since, until)` with its loop's outcome.
pub async fn facts(db: &Db, since: &str, until: &str) -> StoreResult<Vec<FactRow>> {
    let rows = query(
        "SELECT r.department, r.item_code, r.hall_code, r.officer_id, r.score, r.real_name, r.excluded, \
         l.rectified_at, l.on_time, l.revisited_at FROM ratings r LEFT JOIN rectifications l ON l.rating_id = r.id \
         WHERE r.created_at >= $1 AND r.created_at < $2",
    )
    .bind(since)
    .bind(until)
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(FactRow {
                department: r.try_get("department")?,
                item_code: r.try_get("item_code")?,
                hall_code: r.try_get("hall_code")?,
                officer_id: r.try_get("officer_id")?,
                facts: super::domain::RatingFacts {
                    score: r.try_get("score")?,
                    real_name: r.try_get::<i64, _>("real_name")? != 0,
                    excluded: r.try_get::<i64, _>("excluded")? != 0,
                    rectified: r.try_get::<Option<String>, _>("rectified_at")?.is_some(),
                    on_time: r.try_get::<Option<i64>, _>("on_time")? == Some(1),
                    revisited: r.try_get::<Option<String>, _>("revisited_at")?.is_some(),
                },
            })
        })
        .collect()
}

/// The staff member who decided a case (approve, reject or not accept), if any.
pub async fn deciding_officer(db: &Db, case_number: &str) -> StoreResult<Option<String>> {
    let row = query(
        "SELECT actor_id FROM case_events WHERE case_number = $1 AND action IN ('approve', 'reject', 'not_accept') \
         AND actor_id IS NOT NULL ORDER BY seq DESC LIMIT 1",
    )
    .bind(case_number)
    .read_optional(db)
    .await?;
    Ok(row.map(|r| r.try_get("actor_id")).transpose()?)
}

/// A queue ticket as rated (一次一评): hall, day, status and the calling officer.
pub struct TicketFacts {
    pub hall_code: String,
    pub day: String,
    pub status: String,
    pub user_id: Option<String>,
    pub called_by: Option<String>,
    pub officer_department: Option<String>,
    /// The SM3 digest of the holder's secret (tickets issued before it existed have none).
    pub holder_secret: Option<String>,
}

pub async fn ticket(db: &Db, id: &str) -> StoreResult<Option<TicketFacts>> {
    let row = query(
        "SELECT t.hall_code, t.day, t.status, t.user_id, t.called_by, t.holder_secret, u.department FROM queue_tickets t \
         LEFT JOIN users u ON u.id = t.called_by WHERE t.id = $1",
    )
    .bind(id)
    .read_optional(db)
    .await?;
    row.map(|r| {
        Ok(TicketFacts {
            hall_code: r.try_get("hall_code")?,
            day: r.try_get("day")?,
            status: r.try_get("status")?,
            user_id: r.try_get("user_id")?,
            called_by: r.try_get("called_by")?,
            officer_department: r.try_get("department")?,
            holder_secret: r.try_get("holder_secret")?,
        })
    })
    .transpose()
}
