//! Complaints, their history, the taxonomy, proactive tasks and Open311 clients in the database.

use serde::Serialize;

use super::domain::{Category, DistrictRule, Example, Located, Taxonomy};
use super::domain::{FoundCluster, TaskChange};
use crate::audit::{self, NewEntry};
use crate::store::{Db, LockTable, Row, StoreError, StoreResult, Tx, lock_row, query};

pub use super::domain::Complaint;

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub at: String,
    pub actor_name: String,
    pub action: String,
    pub department: Option<String>,
    pub note: Option<String>,
}

const COLUMNS: &str = "id, source, category, department, district, description, address, lat, lon, photos, \
    complainant_id, complainant_name, complainant_phone, open311_client, status, routed_by, confidence, returned_by, \
    dispatched_at, respond_due, resolve_due, extension_days, extension_request, extension_reason, responded_at, \
    responded_on_time, resolved_at, answer, callback_at, callback_resolved, callback_satisfied, reopened, merged_into, \
    proactive_task, created_at, updated_at, version, public, public_id, call_type";

fn flag(r: &Row, col: &str) -> StoreResult<Option<bool>> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(|v| v != 0))
}

fn json_list(r: &Row, col: &str) -> StoreResult<Vec<String>> {
    let raw: String = r.try_get(col)?;
    serde_json::from_str(&raw).map_err(|e| StoreError::Invalid(e.to_string()))
}

fn from_row(r: &Row) -> StoreResult<Complaint> {
    Ok(Complaint {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        category: r.try_get("category")?,
        department: r.try_get("department")?,
        district: r.try_get("district")?,
        description: r.try_get("description")?,
        address: r.try_get("address")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        photos: json_list(r, "photos")?,
        complainant_id: r.try_get("complainant_id")?,
        complainant_name: r.try_get("complainant_name")?,
        complainant_phone: r.try_get("complainant_phone")?,
        open311_client: r.try_get("open311_client")?,
        status: r.try_get("status")?,
        routed_by: r.try_get("routed_by")?,
        confidence: r.try_get("confidence")?,
        returned_by: json_list(r, "returned_by")?,
        dispatched_at: r.try_get("dispatched_at")?,
        respond_due: r.try_get("respond_due")?,
        resolve_due: r.try_get("resolve_due")?,
        extension_days: r.try_get("extension_days")?,
        extension_request: r.try_get("extension_request")?,
        extension_reason: r.try_get("extension_reason")?,
        responded_at: r.try_get("responded_at")?,
        responded_on_time: flag(r, "responded_on_time")?,
        resolved_at: r.try_get("resolved_at")?,
        answer: r.try_get("answer")?,
        callback_at: r.try_get("callback_at")?,
        callback_resolved: flag(r, "callback_resolved")?,
        callback_satisfied: flag(r, "callback_satisfied")?,
        reopened: r.try_get::<i64, _>("reopened")? != 0,
        merged_into: r.try_get("merged_into")?,
        proactive_task: r.try_get("proactive_task")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
        public: r.try_get::<i64, _>("public")? != 0,
        public_id: r.try_get("public_id")?,
        call_type: r.try_get("call_type")?,
    })
}

/// The complaint published on the open feed under `public_id`, if it was agreed to be public.
pub async fn get_public(db: &Db, public_id: &str) -> StoreResult<Option<Complaint>> {
    let row = query(format!("SELECT {COLUMNS} FROM complaints WHERE public_id = $1 AND public = 1"))
        .bind(public_id)
        .read_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Complaint>> {
    let row =
        query(format!("SELECT {COLUMNS} FROM complaints WHERE id = $1")).bind(id).read_optional(db).await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn events(db: &Db, id: &str) -> StoreResult<Vec<Event>> {
    let rows = query(
        "SELECT at, actor_name, action, department, note FROM complaint_events WHERE complaint_id = $1 ORDER BY seq",
    )
    .bind(id)
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                at: r.try_get("at")?,
                actor_name: r.try_get("actor_name")?,
                action: r.try_get("action")?,
                department: r.try_get("department")?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

/// Which complaints to list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub complainant: Option<String>,
    pub department: Option<String>,
    /// Any of these statuses (all when empty).
    pub statuses: Vec<String>,
    pub category: Option<String>,
    /// Any of these categories (Open311's comma-separated `service_code`).
    pub categories: Vec<String>,
    /// Complaint numbers, or with `public_only` public identifiers.
    pub ids: Vec<String>,
    /// Received at or after (RFC 3339, UTC).
    pub since: Option<String>,
    /// Received before.
    pub until: Option<String>,
    /// Only what the complainants agreed to publish (the open feed); merged ones left out.
    pub public_only: bool,
    pub limit: i64,
}

pub async fn list(db: &Db, f: &Filter) -> StoreResult<Vec<Complaint>> {
    let mut sql = format!("SELECT {COLUMNS} FROM complaints WHERE 1 = 1");
    let mut binds: Vec<String> = Vec::new();
    let mut param = |sql: &mut String, cond: &str, v: String| {
        binds.push(v);
        sql.push_str(&cond.replace('?', &format!("${}", binds.len())));
    };
    if let Some(c) = &f.complainant {
        param(&mut sql, " AND complainant_id = ?", c.clone());
    }
    if let Some(d) = &f.department {
        param(&mut sql, " AND department = ?", d.clone());
    }
    if let Some(c) = &f.category {
        param(&mut sql, " AND category = ?", c.clone());
    }
    if let Some(s) = &f.since {
        param(&mut sql, " AND created_at >= ?", s.clone());
    }
    if let Some(s) = &f.until {
        param(&mut sql, " AND created_at < ?", s.clone());
    }
    let id_column = if f.public_only { "public_id" } else { "id" };
    for (column, values) in [("status", &f.statuses), ("category", &f.categories), (id_column, &f.ids)] {
        if values.is_empty() {
            continue;
        }
        sql.push_str(&format!(" AND {column} IN ("));
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            param(&mut sql, "?", v.clone());
        }
        sql.push(')');
    }
    if f.public_only {
        sql.push_str(" AND public = 1 AND status <> 'merged'");
    }
    sql.push_str(&format!(" ORDER BY created_at DESC LIMIT {}", f.limit.clamp(1, 5000)));
    let mut q = query(sql);
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.read_all(db).await?;
    rows.iter().map(from_row).collect()
}

/// A history entry to write: (actor name, action, department, note).
pub type EventRow = (String, String, Option<String>, Option<String>);

/// Which open complaints to look at.
pub enum Around<'a> {
    /// Every located one (clusters).
    Everywhere,
    /// Duplicate candidates for a complaint at a point: anything in the box (± degrees), and
    /// ones of its category that have no location.
    Near { category: Option<&'a str>, lat: f64, lon: f64, degrees: f64 },
    /// Duplicate candidates for a complaint without a location: the latest of its category.
    Category(&'a str),
}

/// A new complaint, routed (or pending) with its deadlines.
pub struct NewComplaint {
    pub complaint: Complaint,
    /// The history's first entries: received, and dispatched (or left for the operator).
    pub events: Vec<(String, String, Option<String>, Option<String>)>,
    pub actor: String,
    /// The Beijing-time day, for the number.
    pub day: String,
    /// The vault's digest of the caller's number (to find a caller's earlier complaints).
    pub phone_digest: Option<String>,
    /// The filer's idempotency key, prefixed with who filed it: the same key files once.
    pub idempotency_key: Option<String>,
}

/// The complaint filed with this idempotency key, if one was.
pub async fn by_idempotency_key(db: &Db, key: &str) -> StoreResult<Option<Complaint>> {
    let row = query(format!("SELECT {COLUMNS} FROM complaints WHERE idempotency_key = $1"))
        .bind(key)
        .read_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// A caller's complaints, newest first, found by the digest of their number.
pub async fn by_phone_digest(db: &Db, digest: &str, limit: i64) -> StoreResult<Vec<Complaint>> {
    let rows = query(format!(
        "SELECT {COLUMNS} FROM complaints WHERE phone_digest = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(digest)
    .bind(limit)
    .read_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Complaints whose caller's number has no digest yet (stored before digests existed): (id,
/// sealed number).
pub async fn phones_not_digested(db: &Db) -> StoreResult<Vec<(String, String)>> {
    let rows = query(
        "SELECT id, complainant_phone FROM complaints \
         WHERE complainant_phone IS NOT NULL AND complainant_phone <> '' AND phone_digest IS NULL",
    )
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("complainant_phone")?))).collect()
}

/// Stores the digests computed for [`phones_not_digested`]; a row digested meanwhile by another
/// process is left alone. Returns how many were written.
pub async fn set_phone_digests(db: &Db, digests: Vec<(String, String)>) -> StoreResult<u64> {
    if digests.is_empty() {
        return Ok(0);
    }
    let now = db.now_text();
    db.write(move |conn| {
        let mut written = 0;
        for (id, digest) in &digests {
            written +=
                query("UPDATE complaints SET phone_digest = $1 WHERE id = $2 AND phone_digest IS NULL")
                    .bind(digest)
                    .bind(id)
                    .execute(&mut *conn)?
                    .rows_affected();
        }
        if written > 0 {
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    "system",
                    "system",
                    "complaints.phone_digested",
                    "complaints",
                    format!("digested {written} callers' numbers stored before digests existed"),
                ),
            )?;
        }
        Ok(written)
    })
    .await
}

fn next_number(conn: &mut dyn Tx, day: &str) -> StoreResult<String> {
    let n: i64 = query(
        "INSERT INTO complaint_counters (day, n) VALUES ($1, 1) ON CONFLICT (day) DO UPDATE SET n = complaint_counters.n + 1 \
         RETURNING n",
    )
    .bind(day)
    .fetch_one(&mut *conn)?
    .try_get("n")?;
    Ok(format!("12345-{}-{n:05}", day.replace('-', "")))
}

fn insert_event(
    conn: &mut dyn Tx,
    now: &str,
    id: &str,
    (actor, action, department, note): &(String, String, Option<String>, Option<String>),
) -> StoreResult<()> {
    let seq: i64 =
        query("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM complaint_events WHERE complaint_id = $1")
            .bind(id)
            .fetch_one(&mut *conn)?
            .try_get("n")?;
    query(
        "INSERT INTO complaint_events (complaint_id, seq, at, actor_name, action, department, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(seq)
    .bind(now)
    .bind(actor)
    .bind(action)
    .bind(department)
    .bind(note)
    .execute(&mut *conn)?;
    Ok(())
}

/// An optional number bound as text and cast in SQL: PostgreSQL caches a statement with the
/// parameter types of its first use, and the Any driver types a NULL differently from a number,
/// so a nullable DOUBLE PRECISION bound directly fails once both have been seen.
fn real_text(v: Option<f64>) -> Option<String> {
    v.map(|x| x.to_string())
}

fn opt_flag(v: Option<bool>) -> Option<i64> {
    v.map(i64::from)
}

/// Stores a new complaint and returns it with its number.
pub async fn create(db: &Db, new: NewComplaint) -> StoreResult<Complaint> {
    let now = db.now_text();
    db.write(move |conn| {

            // The same key files once: a second sending answers the first complaint's number
            // (another process's concurrent insert is caught by the unique index below).
            if let Some(key) = &new.idempotency_key
                && query("SELECT id FROM complaints WHERE idempotency_key = $1").bind(key).fetch_optional(&mut *conn)?.is_some()
            {
                return Err(StoreError::Duplicate("idempotency_key"));
            }
            let mut c = new.complaint.clone();
            c.id = next_number(conn, &new.day)?;
            query(format!(
                "INSERT INTO complaints ({COLUMNS}, phone_digest, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, \
                 CAST($8 AS DOUBLE PRECISION), CAST($9 AS DOUBLE PRECISION), $10, $11, $12, $13, $14, $15, $16, \
                 CAST($17 AS DOUBLE PRECISION), $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, \
                 $32, $33, $34, $35, $36, $37, $38, $39, $40, $41, $42)"
            ))
            .bind(&c.id)
            .bind(&c.source)
            .bind(&c.category)
            .bind(&c.department)
            .bind(&c.district)
            .bind(&c.description)
            .bind(&c.address)
            .bind(real_text(c.lat))
            .bind(real_text(c.lon))
            .bind(serde_json::to_string(&c.photos).unwrap_or_else(|_| "[]".into()))
            .bind(&c.complainant_id)
            .bind(&c.complainant_name)
            .bind(&c.complainant_phone)
            .bind(&c.open311_client)
            .bind(&c.status)
            .bind(&c.routed_by)
            .bind(real_text(c.confidence))
            .bind(serde_json::to_string(&c.returned_by).unwrap_or_else(|_| "[]".into()))
            .bind(&c.dispatched_at)
            .bind(&c.respond_due)
            .bind(&c.resolve_due)
            .bind(c.extension_days)
            .bind(c.extension_request)
            .bind(&c.extension_reason)
            .bind(&c.responded_at)
            .bind(opt_flag(c.responded_on_time))
            .bind(&c.resolved_at)
            .bind(&c.answer)
            .bind(&c.callback_at)
            .bind(opt_flag(c.callback_resolved))
            .bind(opt_flag(c.callback_satisfied))
            .bind(i64::from(c.reopened))
            .bind(&c.merged_into)
            .bind(&c.proactive_task)
            .bind(&c.created_at)
            .bind(&c.updated_at)
            .bind(c.version)
            .bind(i64::from(c.public))
            .bind(&c.public_id)
            .bind(&c.call_type)
            .bind(&new.phone_digest)
            .bind(&new.idempotency_key)
            .execute(&mut *conn)
            .map_err(|e| StoreError::unique_as(e, "idempotency_key"))?;
            for e in &new.events {
                insert_event(conn, &now, &c.id, e)?;
            }
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("complaint:{}", c.id),
                    new.actor.clone(),
                    "complaint.received",
                    format!("complaint:{}", c.id),
                    format!("{} → {}", c.category.clone().unwrap_or_default(), c.department.clone().unwrap_or_default()),
                ),
            )?;
            Ok(c)

    })
    .await
}

/// One recorded change: the complaint as it becomes (written only if its version is still
/// `expected_version`), the history entry and the audit entry, in one transaction. Extra
/// complaints (a merge touches two) are written with it.
pub struct Save {
    pub complaint: Complaint,
    pub expected_version: i64,
    pub actor_id: String,
    pub event: (String, String, Option<String>, Option<String>),
    pub also: Option<(Complaint, EventRow)>,
    /// A message for the complainant's inbox (people who filed with an account).
    pub notify: Option<(String, crate::platform::notifications::Message)>,
}

fn update_row(conn: &mut dyn Tx, now: &str, c: &Complaint, expected: i64) -> StoreResult<bool> {
    let done = query(
        "UPDATE complaints SET category = $1, department = $2, district = $3, status = $4, routed_by = $5, \
         confidence = CAST($6 AS DOUBLE PRECISION), returned_by = $7, dispatched_at = $8, respond_due = $9, resolve_due = $10, \
         extension_days = $11, extension_request = $12, extension_reason = $13, responded_at = $14, \
         responded_on_time = $15, resolved_at = $16, answer = $17, callback_at = $18, callback_resolved = $19, \
         callback_satisfied = $20, reopened = $21, merged_into = $22, proactive_task = $23, updated_at = $24, \
         version = version + 1 WHERE id = $25 AND version = $26",
    )
    .bind(&c.category)
    .bind(&c.department)
    .bind(&c.district)
    .bind(&c.status)
    .bind(&c.routed_by)
    .bind(real_text(c.confidence))
    .bind(serde_json::to_string(&c.returned_by).unwrap_or_else(|_| "[]".into()))
    .bind(&c.dispatched_at)
    .bind(&c.respond_due)
    .bind(&c.resolve_due)
    .bind(c.extension_days)
    .bind(c.extension_request)
    .bind(&c.extension_reason)
    .bind(&c.responded_at)
    .bind(opt_flag(c.responded_on_time))
    .bind(&c.resolved_at)
    .bind(&c.answer)
    .bind(&c.callback_at)
    .bind(opt_flag(c.callback_resolved))
    .bind(opt_flag(c.callback_satisfied))
    .bind(i64::from(c.reopened))
    .bind(&c.merged_into)
    .bind(&c.proactive_task)
    .bind(now)
    .bind(&c.id)
    .bind(expected)
    .execute(&mut *conn)?;
    Ok(done.rows_affected() == 1)
}

/// [`StoreError::Conflict`] (nothing written) when someone changed the complaint first.
pub async fn save(db: &Db, mut s: Save) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        if !update_row(conn, &now, &s.complaint, s.expected_version)? {
            return Err(StoreError::Conflict);
        }
        insert_event(conn, &now, &s.complaint.id, &s.event)?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("complaint:{}", s.complaint.id),
                format!("user:{}", s.actor_id),
                format!("complaint.{}", s.event.1),
                format!("complaint:{}", s.complaint.id),
                s.event.3.clone().unwrap_or_default(),
            ),
        )?;
        if let Some((user, message)) = s.notify.take() {
            crate::platform::notifications::notify(
                conn,
                &now,
                0,
                &user,
                Some(&s.complaint.id),
                &message,
                None,
            )?;
        }
        if let Some((other, event)) = &s.also {
            if !update_row(conn, &now, other, other.version)? {
                return Err(StoreError::Conflict);
            }
            insert_event(conn, &now, &other.id, event)?;
        }
        Ok(())
    })
    .await
}

/// Complaints not yet closed (or, with `include_closed`, also closed) and not merged, received
/// since `since`, around a place: for duplicates and clusters. Bounded, so that intake does not
/// slow down as complaints accumulate.
pub async fn located_open(
    db: &Db,
    since: &str,
    include_closed: bool,
    around: Around<'_>,
) -> StoreResult<Vec<Located>> {
    let statuses = if include_closed { "'merged'" } else { "'closed', 'merged'" };
    let base = format!(
        "SELECT id, category, description, lat, lon, created_at FROM complaints \
         WHERE created_at >= $1 AND status NOT IN ({statuses})"
    );
    let rows = match around {
        Around::Everywhere => {
            query(format!("{base} AND lat IS NOT NULL ORDER BY created_at DESC LIMIT 20000"))
                .bind(since)
                .read_all(db)
                .await?
        }
        Around::Near { category, lat, lon, degrees } => {
            query(format!(
                "{base} AND ((lat BETWEEN $2 AND $3 AND lon BETWEEN $4 AND $5) OR (category = $6 AND lat IS NULL)) \
                 ORDER BY created_at DESC LIMIT 500"
            ))
            .bind(since)
            .bind(lat - degrees)
            .bind(lat + degrees)
            .bind(lon - degrees)
            .bind(lon + degrees)
            .bind(category.unwrap_or("-"))
            .read_all(db)
            .await?
        }
        Around::Category(category) => {
            query(format!("{base} AND category = $2 ORDER BY created_at DESC LIMIT 200"))
                .bind(since)
                .bind(category)
                .read_all(db)
                .await?
        }
    };
    rows.iter()
        .map(|r| {
            let at: String = r.try_get("created_at")?;
            Ok(Located {
                id: r.try_get("id")?,
                category: r.try_get("category")?,
                description: r.try_get("description")?,
                lat: r.try_get("lat")?,
                lon: r.try_get("lon")?,
                created_at: chrono::DateTime::parse_from_rfc3339(&at)
                    .map(|d| d.with_timezone(&chrono::Utc))
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
            })
        })
        .collect()
}

/// Past routing the classifier learns from: complaints that were answered where they were
/// sent (never returned), newest first.
pub async fn routing_history(db: &Db, limit: i64) -> StoreResult<Vec<Example>> {
    let rows = query(
        "SELECT category, description FROM complaints WHERE category IS NOT NULL AND returned_by = '[]' \
         AND status IN ('resolved', 'closed') ORDER BY created_at DESC LIMIT $1",
    )
    .bind(limit)
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Example { category: r.try_get("category")?, text: r.try_get("description")?, weight: 1.0 })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Taxonomy
// ---------------------------------------------------------------------------------------------

pub async fn taxonomy(db: &Db) -> StoreResult<Taxonomy> {
    let rows = query("SELECT body FROM complaint_categories ORDER BY position").read_all(db).await?;
    let categories = rows
        .iter()
        .map(|r| {
            let body: String = r.try_get("body")?;
            serde_json::from_str::<Category>(&body).map_err(|e| StoreError::Invalid(e.to_string()))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let rules = query(
        "SELECT category, district, department FROM complaint_district_rules ORDER BY category, district",
    )
    .read_all(db)
    .await?
    .iter()
    .map(|r| {
        Ok(DistrictRule {
            category: r.try_get("category")?,
            district: r.try_get("district")?,
            department: r.try_get("department")?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    Ok(Taxonomy { categories, district_rules: rules })
}

/// Replaces the taxonomy (categories no longer listed stay on old complaints by code).
pub async fn put_taxonomy(db: &Db, t: Taxonomy, actor: String) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| write_taxonomy(conn, &now, &t, &actor)).await
}

/// Seeds the taxonomy once on a fresh database (several processes may start together): the claim
/// comes first, and a database that already has categories keeps them. Returns whether it seeded.
pub async fn seed_taxonomy(db: &Db, t: Taxonomy) -> StoreResult<bool> {
    let now = db.now_text();
    db.write(move |conn| {
        if !crate::store::claim_once(conn, "complaint_taxonomy_seeded", &now)? {
            return Ok(false);
        }
        let existing = query("SELECT COUNT(*) AS n FROM complaint_categories").fetch_one(&mut *conn)?;
        if existing.try_get::<i64, _>("n")? > 0 {
            return Ok(false);
        }
        write_taxonomy(conn, &now, &t, "system:seed")?;
        Ok(true)
    })
    .await
}

fn write_taxonomy(conn: &mut dyn Tx, now: &str, t: &Taxonomy, actor: &str) -> StoreResult<()> {
    query("DELETE FROM complaint_categories").execute(&mut *conn)?;
    query("DELETE FROM complaint_district_rules").execute(&mut *conn)?;
    for (i, c) in t.categories.iter().enumerate() {
        query("INSERT INTO complaint_categories (code, body, position) VALUES ($1, $2, $3)")
            .bind(&c.code)
            .bind(serde_json::to_string(c).map_err(|e| StoreError::Invalid(e.to_string()))?)
            .bind(i as i64)
            .execute(&mut *conn)?;
    }
    for r in &t.district_rules {
        query("INSERT INTO complaint_district_rules (category, district, department) VALUES ($1, $2, $3)")
            .bind(&r.category)
            .bind(&r.district)
            .bind(&r.department)
            .execute(&mut *conn)?;
    }
    audit::store::append(
        conn,
        now,
        NewEntry::new(
            "complaints:taxonomy",
            actor,
            "complaint.taxonomy_changed",
            "complaint_categories",
            format!("{} categories, {} district rules", t.categories.len(), t.district_rules.len()),
        ),
    )?;
    Ok(())
}

/// Departments' duties (from the reference data), for the classifier.
pub async fn duties(db: &Db) -> StoreResult<std::collections::HashMap<String, Vec<String>>> {
    let rows = query("SELECT data FROM departments").read_all(db).await?;
    let departments = rows
        .iter()
        .map(|r| {
            let data: String = r.try_get("data")?;
            serde_json::from_str(&data).map_err(|e| StoreError::Invalid(e.to_string()))
        })
        .collect::<StoreResult<Vec<crate::reference::data::Department>>>()?;
    Ok(super::domain::duties_of(&departments))
}

// ---------------------------------------------------------------------------------------------
// Proactive tasks (未诉先办)
// ---------------------------------------------------------------------------------------------

pub use super::domain::ProactiveTask;

fn task_from_row(r: &Row) -> StoreResult<ProactiveTask> {
    Ok(ProactiveTask {
        id: r.try_get("id")?,
        category: r.try_get("category")?,
        department: r.try_get("department")?,
        district: r.try_get("district")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        radius_m: r.try_get("radius_m")?,
        members: json_list(r, "members")?,
        size: r.try_get("size")?,
        status: r.try_get("status")?,
        note: r.try_get("note")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
    })
}

const TASK_COLUMNS: &str = "id, category, department, district, lat, lon, radius_m, members, size, status, note, created_at, updated_at, version";

pub async fn tasks(db: &Db, department: Option<&str>, open_only: bool) -> StoreResult<Vec<ProactiveTask>> {
    let rows = query(format!(
        "SELECT {TASK_COLUMNS} FROM proactive_tasks WHERE (CAST($1 AS TEXT) IS NULL OR department = $1) \
         AND ($2 = 0 OR status = 'open') ORDER BY created_at DESC LIMIT 500"
    ))
    .bind(department)
    .bind(i64::from(open_only))
    .read_all(db)
    .await?;
    rows.iter().map(task_from_row).collect()
}

pub async fn task(db: &Db, id: &str) -> StoreResult<Option<ProactiveTask>> {
    let row = query(format!("SELECT {TASK_COLUMNS} FROM proactive_tasks WHERE id = $1"))
        .bind(id)
        .read_optional(db)
        .await?;
    row.as_ref().map(task_from_row).transpose()
}

/// Raises or grows proactive tasks for the clusters found (未诉先办). The decision which cluster
/// continues which open task is made here, under the scan's lock row, from the open tasks as
/// they are now: the minute loop, `POST /proactive-tasks/scan` and another process scanning at
/// the same time run one after another, so a cluster never yields two tasks.
pub async fn apply_clusters(
    db: &Db,
    found: Vec<FoundCluster>,
    radius_m: f64,
) -> StoreResult<Vec<ProactiveTask>> {
    let now = db.now_text();
    db.write(move |conn| {
        if !lock_row(conn, LockTable::Lock, SCAN_LOCK)? {
            return Err(StoreError::Invalid(format!("lock row {SCAN_LOCK} is missing")));
        }
        let rows = query(format!("SELECT {TASK_COLUMNS} FROM proactive_tasks WHERE status = 'open'"))
            .fetch_all(&mut *conn)?;
        let open = rows.iter().map(task_from_row).collect::<StoreResult<Vec<_>>>()?;
        let changes = super::domain::plan_tasks(&found, &open, radius_m, &now);
        for change in &changes {
            write_task(conn, &now, change)?;
        }
        Ok(changes.into_iter().map(|c| c.task).collect())
    })
    .await
}

/// The lock row every cluster scan takes first.
const SCAN_LOCK: &str = "proactive_scan";

fn write_task(conn: &mut dyn Tx, now: &str, change: &TaskChange) -> StoreResult<()> {
    let t = &change.task;
    let members = serde_json::to_string(&t.members).map_err(|e| StoreError::Invalid(e.to_string()))?;
    if let Some(expected) = change.grows {
        let done = query(
            "UPDATE proactive_tasks SET members = $1, size = $2, lat = $3, lon = $4, radius_m = $5, \
             updated_at = $6, version = version + 1 WHERE id = $7 AND version = $8 AND status = 'open'",
        )
        .bind(&members)
        .bind(t.size)
        .bind(t.lat)
        .bind(t.lon)
        .bind(t.radius_m)
        .bind(now)
        .bind(&t.id)
        .bind(expected)
        .execute(&mut *conn)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
    } else {
        query(format!(
            "INSERT INTO proactive_tasks ({TASK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', \
             NULL, $10, $10, 1)"
        ))
        .bind(&t.id)
        .bind(&t.category)
        .bind(&t.department)
        .bind(&t.district)
        .bind(t.lat)
        .bind(t.lon)
        .bind(t.radius_m)
        .bind(&members)
        .bind(t.size)
        .bind(now)
        .execute(&mut *conn)?;
    }
    for m in &t.members {
        query("UPDATE complaints SET proactive_task = $1 WHERE id = $2 AND proactive_task IS NULL")
            .bind(&t.id)
            .bind(m)
            .execute(&mut *conn)?;
    }
    audit::store::append(
        conn,
        now,
        NewEntry::new(
            format!("proactive:{}", t.id),
            "system:clusters",
            if change.grows.is_some() { "proactive.grown" } else { "proactive.raised" },
            format!("proactive:{}", t.id),
            format!("{} × {} ({})", t.category, t.size, t.department),
        ),
    )?;
    Ok(())
}

pub async fn finish_task(db: &Db, id: String, version: i64, note: String, actor: String) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        let done = query(
            "UPDATE proactive_tasks SET status = 'done', note = $1, updated_at = $2, version = version + 1 \
                 WHERE id = $3 AND version = $4 AND status = 'open'",
        )
        .bind(&note)
        .bind(&now)
        .bind(&id)
        .bind(version)
        .execute(&mut *conn)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("proactive:{id}"),
                actor.clone(),
                "proactive.done",
                format!("proactive:{id}"),
                note,
            ),
        )?;
        Ok(())
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Open311 clients
// ---------------------------------------------------------------------------------------------

pub async fn add_client(db: &Db, key_hash: String, name: String) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        query("INSERT INTO open311_clients (key_hash, name, created_at, active) VALUES ($1, $2, $3, 1)")
            .bind(&key_hash)
            .bind(&name)
            .bind(&now)
            .execute(&mut *conn)?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new("open311", "system", "open311.client_added", "open311_clients", name.clone()),
        )?;
        Ok(())
    })
    .await
}

pub async fn client_name(db: &Db, key_hash: &str) -> StoreResult<Option<String>> {
    Ok(query("SELECT name FROM open311_clients WHERE key_hash = $1 AND active = 1")
        .bind(key_hash)
        .read_optional(db)
        .await?
        .map(|r| r.try_get("name"))
        .transpose()?)
}
