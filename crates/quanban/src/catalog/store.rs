//! The catalog in the database: current items, every version, proposals and their application.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::domain::{ChangeOp, FieldChange, ItemStatus, diff, op_allowed};
use crate::audit::{self, NewEntry};
use crate::reference::data::{CatalogItem, Department};
use crate::store::{Db, Row, StoreError, StoreResult, Tx, query};

/// An item as it stands (now, or on a past date).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct StoredItem {
    #[schema(value_type = Object)]
    pub item: CatalogItem,
    pub supervising_department: Option<String>,
    pub status: String,
    pub version: i64,
    pub effective_date: String,
}

/// Filters of the item list; empty strings mean "any".
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct ItemFilter {
    /// Words in the name or keywords.
    pub q: String,
    pub department: String,
    /// `person`, `enterprise` (items for `both` match either).
    pub audience: String,
    pub life_event: String,
    pub level: String,
    /// `true` / `false`.
    pub online: String,
    /// Show the catalog as it stood on this date (YYYY-MM-DD).
    pub as_of: String,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ItemPage {
    pub items: Vec<StoredItem>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Appends the filter's conditions (columns shared by `catalog_items` and `catalog_versions`).
fn push_filter(sql: &mut String, binds: &mut Vec<String>, f: &ItemFilter, alias: &str) {
    let mut bind = |sql: &mut String, cond: &str, value: String| {
        binds.push(value);
        sql.push_str(&cond.replace("{a}", alias).replace("{n}", &format!("${}", binds.len())));
    };
    if !f.q.trim().is_empty() {
        bind(sql, " AND ({a}.name LIKE {n} OR {a}.data LIKE {n})", format!("%{}%", f.q.trim()));
    }
    if !f.department.is_empty() {
        bind(sql, " AND {a}.department = {n}", f.department.clone());
    }
    if !f.audience.is_empty() {
        bind(sql, " AND ({a}.audience = {n} OR {a}.audience = 'both')", f.audience.clone());
    }
    if !f.life_event.is_empty() {
        bind(sql, " AND {a}.life_event = {n}", f.life_event.clone());
    }
    if !f.level.is_empty() {
        bind(sql, " AND {a}.level = {n}", f.level.clone());
    }
    match f.online.as_str() {
        "true" | "1" => sql.push_str(&format!(" AND {alias}.online = 1")),
        "false" | "0" => sql.push_str(&format!(" AND {alias}.online = 0")),
        _ => {}
    }
}

fn stored_from_row(r: &Row) -> StoreResult<StoredItem> {
    let data: String = r.try_get("data")?;
    Ok(StoredItem {
        item: serde_json::from_str(&data).map_err(|e| StoreError::Invalid(format!("stored item: {e}")))?,
        supervising_department: r.try_get("supervising_department")?,
        status: r.try_get("status")?,
        version: r.try_get("version")?,
        effective_date: r.try_get("effective_date")?,
    })
}

/// One page of active items, now (`as_of` = None) or as they stood on a date.
pub async fn list(db: &Db, f: &ItemFilter, as_of: Option<NaiveDate>) -> StoreResult<ItemPage> {
    let per_page = f.per_page.unwrap_or(20).clamp(1, 200);
    let page = f.page.unwrap_or(1).max(1);
    let mut binds = Vec::new();
    let mut where_sql = String::new();
    let from = match as_of {
        None => {
            where_sql.push_str(" WHERE i.status = 'active'");
            " FROM catalog_items i".to_string()
        }
        Some(date) => {
            binds.push(date.to_string());
            where_sql.push_str(
                " WHERE i.effective_date <= $1 AND i.status = 'active' AND i.version = \
                 (SELECT MAX(w.version) FROM catalog_versions w WHERE w.code = i.code AND w.effective_date <= $1)",
            );
            " FROM catalog_versions i".to_string()
        }
    };
    push_filter(&mut where_sql, &mut binds, f, "i");
    let count_sql = format!("SELECT COUNT(*) AS n{from}{where_sql}");
    let mut q = query(count_sql);
    for b in &binds {
        q = q.bind(b.clone());
    }
    let total: i64 = q.read_one(db).await?.try_get("n")?;
    let list_sql = format!(
        "SELECT i.data, i.supervising_department, i.status, i.version, i.effective_date{from}{where_sql} \
         ORDER BY i.code LIMIT {per_page} OFFSET {}",
        // u64: a page number near u32::MAX times a page size does not fit in u32.
        u64::from(page - 1) * u64::from(per_page)
    );
    let mut q = query(list_sql);
    for b in &binds {
        q = q.bind(b.clone());
    }
    let rows = q.read_all(db).await?;
    let items = rows.iter().map(stored_from_row).collect::<StoreResult<_>>()?;
    Ok(ItemPage { items, total, page, per_page })
}

/// Every active item (for the guide index and exports).
pub async fn all_active(db: &Db) -> StoreResult<Vec<StoredItem>> {
    let rows = query(
        "SELECT data, supervising_department, status, version, effective_date FROM catalog_items \
         WHERE status = 'active' ORDER BY code",
    )
    .read_all(db)
    .await?;
    rows.iter().map(stored_from_row).collect()
}

/// Every item that is not removed, with its status (for the boundary report and exports).
pub async fn all_current(db: &Db) -> StoreResult<Vec<StoredItem>> {
    let rows = query(
        "SELECT data, supervising_department, status, version, effective_date FROM catalog_items \
         WHERE status <> 'removed' ORDER BY code",
    )
    .read_all(db)
    .await?;
    rows.iter().map(stored_from_row).collect()
}

pub async fn get(db: &Db, code: &str) -> StoreResult<Option<StoredItem>> {
    let row = query(
        "SELECT data, supervising_department, status, version, effective_date FROM catalog_items WHERE code = $1",
    )
    .bind(code)
    .read_optional(db)
    .await?;
    row.as_ref().map(stored_from_row).transpose()
}

/// One version of an item, with what changed from the one before.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct VersionEntry {
    pub version: i64,
    pub op: String,
    pub status: String,
    pub effective_date: String,
    pub proposal_id: Option<String>,
    pub recorded_at: String,
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<FieldChange>,
}

pub async fn history(db: &Db, code: &str) -> StoreResult<Vec<VersionEntry>> {
    let rows = query(
        "SELECT version, op, status, effective_date, proposal_id, recorded_at, diff FROM catalog_versions \
         WHERE code = $1 ORDER BY version DESC",
    )
    .bind(code)
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let diff: String = r.try_get("diff")?;
            Ok(VersionEntry {
                version: r.try_get("version")?,
                op: r.try_get("op")?,
                status: r.try_get("status")?,
                effective_date: r.try_get("effective_date")?,
                proposal_id: r.try_get("proposal_id")?,
                recorded_at: r.try_get("recorded_at")?,
                changes: serde_json::from_str(&diff).map_err(|e| StoreError::Invalid(e.to_string()))?,
            })
        })
        .collect()
}

/// Writes a new version of an item (current row and history row) inside the caller's transaction.
#[expect(clippy::too_many_arguments, reason = "one row of the version table, field by field")]
fn write_version(
    conn: &mut dyn Tx,
    now: &str,
    op: ChangeOp,
    item: &CatalogItem,
    supervising: Option<&str>,
    version: i64,
    effective_date: &str,
    proposal_id: Option<&str>,
    changes: &[FieldChange],
) -> StoreResult<()> {
    let data = serde_json::to_string(item).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let status = op.resulting_status().as_str();
    let now = now.to_string();
    let online = i64::from(item.online);
    query(
        "INSERT INTO catalog_items (code, name, department, supervising_department, level, audience, life_event, \
         online, status, data, version, effective_date, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, department = excluded.department, \
         supervising_department = excluded.supervising_department, level = excluded.level, \
         audience = excluded.audience, life_event = excluded.life_event, online = excluded.online, \
         status = excluded.status, data = excluded.data, version = excluded.version, \
         effective_date = excluded.effective_date, updated_at = excluded.updated_at",
    )
    .bind(&item.code)
    .bind(&item.name)
    .bind(&item.department)
    .bind(supervising)
    .bind(&item.level)
    .bind(&item.audience)
    .bind(&item.life_event)
    .bind(online)
    .bind(status)
    .bind(&data)
    .bind(version)
    .bind(effective_date)
    .bind(&now)
    .execute(&mut *conn)?;
    let diff_json = serde_json::to_string(changes).map_err(|e| StoreError::Invalid(e.to_string()))?;
    query(
        "INSERT INTO catalog_versions (code, version, name, department, level, audience, life_event, online, status, \
         data, supervising_department, effective_date, proposal_id, op, diff, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(&item.code)
    .bind(version)
    .bind(&item.name)
    .bind(&item.department)
    .bind(&item.level)
    .bind(&item.audience)
    .bind(&item.life_event)
    .bind(online)
    .bind(status)
    .bind(&data)
    .bind(supervising)
    .bind(effective_date)
    .bind(proposal_id)
    .bind(op.as_str())
    .bind(&diff_json)
    .bind(&now)
    .execute(&mut *conn)?;
    Ok(())
}

/// Bumps the catalog revision, which every process's search index follows.
fn bump_revision(conn: &mut dyn Tx) -> StoreResult<()> {
    query(
        "INSERT INTO settings (key, value) VALUES ('catalog_revision', '1') ON CONFLICT (key) DO UPDATE \
         SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)",
    )
    .execute(&mut *conn)?;
    Ok(())
}

/// The catalog's revision number: it changes whenever an item changes.
pub async fn revision(db: &Db) -> StoreResult<i64> {
    let row = query("SELECT value FROM settings WHERE key = 'catalog_revision'").read_optional(db).await?;
    Ok(match row {
        Some(r) => r.try_get::<String, _>("value")?.parse().unwrap_or(0),
        None => 0,
    })
}

/// Loads the shipped catalog as version 1 of every item, once (when the catalog is empty).
pub fn seed_initial(
    conn: &mut dyn Tx,
    now: &str,
    items: &[CatalogItem],
    departments: &[Department],
    effective_date: &str,
) -> StoreResult<usize> {
    let count: i64 = query("SELECT COUNT(*) AS n FROM catalog_items").fetch_one(&mut *conn)?.try_get("n")?;
    if count > 0 {
        return Ok(0);
    }
    for item in items {
        let supervising = super::domain::infer_supervisor(item, departments);
        let changes = diff(&serde_json::Value::Null, &serde_json::to_value(item).unwrap_or_default());
        write_version(
            conn,
            now,
            ChangeOp::Add,
            item,
            supervising.as_deref(),
            1,
            effective_date,
            None,
            &changes,
        )?;
    }
    bump_revision(conn)?;
    audit::store::append(
        conn,
        now,
        NewEntry::new(
            "catalog",
            "system",
            "catalog.seeded",
            "catalog",
            format!("{} items loaded as version 1", items.len()),
        ),
    )?;
    Ok(items.len())
}

/// One change inside a proposal.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Change {
    pub op: ChangeOp,
    pub code: String,
    /// The full new item, for `add` and `change`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub item: Option<CatalogItem>,
    /// The supervising industry department (审管联动), for `add` and `change`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervising_department: Option<String>,
}

/// A proposal to adjust the catalog (动态调整).
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub id: String,
    pub department: String,
    /// `api` for a single change, or `import:<file name>` for an imported file.
    pub source: String,
    pub reason: String,
    pub effective_date: String,
    /// `pending`, `approved` (waiting for its date), `rejected` or `applied`.
    pub status: String,
    pub changes: Vec<Change>,
    pub change_count: i64,
    pub proposed_by: String,
    pub proposed_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    pub applied_at: Option<String>,
    pub version: i64,
}

fn proposal_from_row(r: &Row) -> StoreResult<Proposal> {
    let changes: String = r.try_get("changes")?;
    Ok(Proposal {
        id: r.try_get("id")?,
        department: r.try_get("department")?,
        source: r.try_get("source")?,
        reason: r.try_get("reason")?,
        effective_date: r.try_get("effective_date")?,
        status: r.try_get("status")?,
        changes: serde_json::from_str(&changes).map_err(|e| StoreError::Invalid(e.to_string()))?,
        change_count: r.try_get("change_count")?,
        proposed_by: r.try_get("proposed_by")?,
        proposed_at: r.try_get("proposed_at")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        decision_note: r.try_get("decision_note")?,
        applied_at: r.try_get("applied_at")?,
        version: r.try_get("version")?,
    })
}

const PROPOSAL_COLUMNS: &str = "id, department, source, reason, effective_date, status, changes, change_count, \
     proposed_by, proposed_at, decided_by, decided_at, decision_note, applied_at, version";

pub struct NewProposal {
    pub department: String,
    pub source: String,
    pub reason: String,
    pub effective_date: NaiveDate,
    pub changes: Vec<Change>,
}

fn current_status(conn: &mut dyn Tx, code: &str) -> StoreResult<Option<(ItemStatus, String)>> {
    let row = query("SELECT status, department FROM catalog_items WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)?;
    match row {
        Some(r) => {
            let status: String = r.try_get("status")?;
            let status =
                ItemStatus::parse(&status).ok_or_else(|| StoreError::Invalid(format!("status {status}")))?;
            Ok(Some((status, r.try_get("department")?)))
        }
        None => Ok(None),
    }
}

/// Records a proposal (checked by the caller; the operations are re-checked here against the
/// catalog as it is inside the transaction).
pub async fn propose(db: &Db, actor: String, p: NewProposal) -> StoreResult<Proposal> {
    let id = crate::identity::store::new_user_id();
    let pid = id.clone();
    let now = db.now_text();
    db.write(move |conn| {

            for c in &p.changes {
                let current = current_status(conn, &c.code)?;
                op_allowed(c.op, current.as_ref().map(|(s, _)| *s))
                    .map_err(|(_, en)| StoreError::Invalid(format!("{}: {en}", c.code)))?;
            }
            let changes = serde_json::to_string(&p.changes).map_err(|e| StoreError::Invalid(e.to_string()))?;
            query(
                "INSERT INTO catalog_proposals (id, department, source, reason, effective_date, status, changes, \
                 change_count, proposed_by, proposed_at, version) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, 1)",
            )
            .bind(&pid)
            .bind(&p.department)
            .bind(&p.source)
            .bind(&p.reason)
            .bind(p.effective_date.to_string())
            .bind(&changes)
            .bind(p.changes.len() as i64)
            .bind(&actor)
            .bind(&now)
            .execute(&mut *conn)?;
            let ops: Vec<String> = p.changes.iter().take(5).map(|c| format!("{} {}", c.op.as_str(), c.code)).collect();
            let more = if p.changes.len() > 5 { format!(" (+{} more)", p.changes.len() - 5) } else { String::new() };
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("catalog_proposal:{pid}"),
                    &actor,
                    "catalog.proposed",
                    format!("catalog_proposal:{pid}"),
                    format!("{}: {}{more}, effective {}", p.department, ops.join(", "), p.effective_date),
                ),
            )?;
            Ok(())

    })
    .await?;
    get_proposal(db, &id).await?.ok_or(StoreError::NotFound)
}

pub async fn get_proposal(db: &Db, id: &str) -> StoreResult<Option<Proposal>> {
    let row = query(format!("SELECT {PROPOSAL_COLUMNS} FROM catalog_proposals WHERE id = $1"))
        .bind(id)
        .read_optional(db)
        .await?;
    row.as_ref().map(proposal_from_row).transpose()
}

/// Proposals, newest first; `department` None means all departments.
pub async fn list_proposals(
    db: &Db,
    department: Option<&str>,
    status: Option<&str>,
) -> StoreResult<Vec<Proposal>> {
    let rows = query(format!(
        "SELECT {PROPOSAL_COLUMNS} FROM catalog_proposals WHERE ($1 = '' OR department = $1) \
         AND ($2 = '' OR status = $2) ORDER BY proposed_at DESC LIMIT 200"
    ))
    .bind(department.unwrap_or(""))
    .bind(status.unwrap_or(""))
    .read_all(db)
    .await?;
    rows.iter().map(proposal_from_row).collect()
}

/// Approves or rejects a pending proposal (guarded by its version). An approved proposal whose
/// date has come is applied in the same transaction; a later one waits for [`apply_due`].
pub async fn decide(
    db: &Db,
    actor: String,
    id: &str,
    approve: bool,
    note: String,
    expected_version: i64,
    today: NaiveDate,
) -> StoreResult<Proposal> {
    let pid = id.to_string();
    let now = db.now_text();
    db.write(move |conn| {
        let status = if approve { "approved" } else { "rejected" };
        let done = query(
            "UPDATE catalog_proposals SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4, \
                 version = version + 1 WHERE id = $5 AND status = 'pending' AND version = $6",
        )
        .bind(status)
        .bind(&actor)
        .bind(&now)
        .bind(&note)
        .bind(&pid)
        .bind(expected_version)
        .execute(&mut *conn)?;
        if done.rows_affected() == 0 {
            let exists = query("SELECT id FROM catalog_proposals WHERE id = $1")
                .bind(&pid)
                .fetch_optional(&mut *conn)?;
            return Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound });
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("catalog_proposal:{pid}"),
                &actor,
                if approve { "catalog.approved" } else { "catalog.rejected" },
                format!("catalog_proposal:{pid}"),
                if note.is_empty() { status.to_string() } else { format!("{status}: {note}") },
            ),
        )?;
        if approve {
            apply_if_due(conn, &now, &pid, today)?;
        }
        Ok(())
    })
    .await?;
    get_proposal(db, id).await?.ok_or(StoreError::NotFound)
}

/// Applies every approved proposal whose effective date has come (the background job; also
/// "run until nothing is due" for tests). Returns how many were applied.
pub async fn apply_due(db: &Db, today: NaiveDate) -> StoreResult<usize> {
    let due = query(
        "SELECT id FROM catalog_proposals WHERE status = 'approved' AND effective_date <= $1 ORDER BY effective_date, decided_at",
    )
    .bind(today.to_string())
    .read_all(db)
    .await?;
    let mut applied = 0;
    for row in due {
        let id: String = row.try_get("id")?;
        let now = db.now_text();
        let did = db.write(move |conn| apply_if_due(conn, &now, &id, today)).await?;
        applied += usize::from(did);
    }
    Ok(applied)
}

/// Applies proposal `id` if it is approved and due; the status check inside the transaction
/// makes this idempotent when several processes run the job at once.
fn apply_if_due(conn: &mut dyn Tx, now: &str, id: &str, today: NaiveDate) -> StoreResult<bool> {
    let claimed = query(
        "UPDATE catalog_proposals SET status = 'applied', applied_at = $1 \
         WHERE id = $2 AND status = 'approved' AND effective_date <= $3",
    )
    .bind(now)
    .bind(id)
    .bind(today.to_string())
    .execute(&mut *conn)?;
    if claimed.rows_affected() == 0 {
        return Ok(false);
    }
    let row = query(format!("SELECT {PROPOSAL_COLUMNS} FROM catalog_proposals WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut *conn)?;
    let proposal = proposal_from_row(&row)?;
    // It takes effect today even if its date was earlier (it was approved late): history must not
    // claim the catalog looked different on a day that has passed.
    let effective = proposal.effective_date.clone().max(today.to_string());
    for c in &proposal.changes {
        let current =
            query("SELECT data, supervising_department, version, status FROM catalog_items WHERE code = $1")
                .bind(&c.code)
                .fetch_optional(&mut *conn)?;
        let (before, before_supervisor, version, status) = match &current {
            Some(r) => {
                let data: String = r.try_get("data")?;
                let item: CatalogItem =
                    serde_json::from_str(&data).map_err(|e| StoreError::Invalid(e.to_string()))?;
                let status: String = r.try_get("status")?;
                (
                    Some(item),
                    r.try_get::<Option<String>, _>("supervising_department")?,
                    r.try_get::<i64, _>("version")?,
                    ItemStatus::parse(&status),
                )
            }
            None => (None, None, 0, None),
        };
        // The catalog may have moved since the proposal was made; a change that no longer fits
        // fails the whole application (nothing half-applied) and the proposal stays approved.
        op_allowed(c.op, status).map_err(|(_, en)| StoreError::Invalid(format!("{}: {en}", c.code)))?;
        let after = match (&c.item, &before) {
            (Some(new), _) => new.clone(),
            (None, Some(old)) => old.clone(),
            (None, None) => return Err(StoreError::Invalid(format!("{}: no item data", c.code))),
        };
        let supervising = match c.op {
            ChangeOp::Add | ChangeOp::Change => {
                c.supervising_department.clone().or(before_supervisor.clone())
            }
            _ => before_supervisor.clone(),
        };
        let mut before_json =
            before.as_ref().map(serde_json::to_value).transpose().unwrap_or(None).unwrap_or_default();
        let mut after_json = serde_json::to_value(&after).unwrap_or_default();
        if let (Some(b), Some(a)) = (before_json.as_object_mut(), after_json.as_object_mut()) {
            b.insert("supervising_department".into(), before_supervisor.clone().into());
            b.insert("status".into(), status.map(|s| s.as_str()).into());
            a.insert("supervising_department".into(), supervising.clone().into());
            a.insert("status".into(), c.op.resulting_status().as_str().into());
        }
        let changes = diff(&before_json, &after_json);
        write_version(
            conn,
            now,
            c.op,
            &after,
            supervising.as_deref(),
            version + 1,
            &effective,
            Some(id),
            &changes,
        )?;
        audit::store::append(
            conn,
            now,
            NewEntry::new(
                format!("item:{}", c.code),
                proposal.decided_by.clone().unwrap_or_else(|| "system".into()),
                format!("catalog.{}", c.op.as_str()),
                format!("item:{}", c.code),
                format!(
                    "version {} effective {effective} ({} field(s) changed) by proposal {id}",
                    version + 1,
                    changes.len()
                ),
            ),
        )?;
    }
    bump_revision(conn)?;
    Ok(true)
}

/// Codes of every department, for validation.
pub async fn department_codes(db: &Db) -> StoreResult<std::collections::HashSet<String>> {
    let rows = query("SELECT code FROM departments").read_all(db).await?;
    rows.iter().map(|r| r.try_get("code").map_err(Into::into)).collect()
}

/// Codes of every e-licence type, for validation.
pub async fn elicence_codes(db: &Db) -> StoreResult<std::collections::HashSet<String>> {
    let rows = query("SELECT code FROM reference_records WHERE kind = 'elicence_type'").read_all(db).await?;
    rows.iter().map(|r| r.try_get("code").map_err(Into::into)).collect()
}
