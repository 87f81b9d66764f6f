//! Assistance requests and their notes in the database.

use serde::Serialize;

use crate::audit::{self, NewEntry};
use crate::platform::pii::Vault;
use crate::store::{Db, Row, StoreError, StoreResult, query};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Request {
    pub id: String,
    pub requester_id: String,
    pub requester_name: String,
    pub enterprise: Option<String>,
    pub item_code: Option<String>,
    pub project_name: Option<String>,
    pub description: String,
    pub contact_phone: String,
    /// `requested`, `assigned`, `authorized`, `done` or `cancelled`.
    pub status: String,
    pub officer_id: Option<String>,
    pub officer_name: Option<String>,
    pub poa_text: Option<String>,
    pub poa_signed_at: Option<String>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    /// Always 0: assisted service is free (免费帮办).
    pub fee: i64,
    pub created_at: String,
    pub version: i64,
    pub notes: Vec<Note>,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub author_name: String,
    pub text: String,
    pub at: String,
}

const COLUMNS: &str = "r.id, r.requester_id, u.name AS requester_name, r.enterprise, r.item_code, r.project_name, \
    r.description, r.contact_phone, r.status, r.officer_id, o.name AS officer_name, r.poa_text, r.poa_signed_at, \
    r.rating, r.rating_comment, r.created_at, r.version";

/// The column the contact phone is sealed for (personal data at rest).
pub const PHONE_COLUMN: &str = "assistance_requests.contact_phone";

fn from_row(r: &Row, vault: &Vault) -> StoreResult<Request> {
    let phone: String = r.try_get("contact_phone")?;
    Ok(Request {
        id: r.try_get("id")?,
        requester_id: r.try_get("requester_id")?,
        requester_name: r.try_get("requester_name")?,
        enterprise: r.try_get("enterprise")?,
        item_code: r.try_get("item_code")?,
        project_name: r.try_get("project_name")?,
        description: r.try_get("description")?,
        contact_phone: vault.open(&phone, PHONE_COLUMN).map_err(|e| StoreError::Invalid(e.to_string()))?,
        status: r.try_get("status")?,
        officer_id: r.try_get("officer_id")?,
        officer_name: r.try_get("officer_name")?,
        poa_text: r.try_get("poa_text")?,
        poa_signed_at: r.try_get("poa_signed_at")?,
        rating: r.try_get("rating")?,
        rating_comment: r.try_get("rating_comment")?,
        fee: 0,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
        notes: Vec::new(),
    })
}

const FROM: &str = "FROM assistance_requests r JOIN users u ON u.id = r.requester_id LEFT JOIN users o ON o.id = r.officer_id";

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Request>> {
    let row = query(format!("SELECT {COLUMNS} {FROM} WHERE r.id = $1")).bind(id).read_optional(db).await?;
    let Some(row) = row else { return Ok(None) };
    let mut r = from_row(&row, db.vault()?)?;
    let notes =
        query("SELECT author_name, text, at FROM assistance_notes WHERE request_id = $1 ORDER BY seq")
            .bind(id)
            .read_all(db)
            .await?;
    r.notes = notes
        .iter()
        .map(|n| {
            Ok(Note {
                author_name: n.try_get("author_name")?,
                text: n.try_get("text")?,
                at: n.try_get("at")?,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(Some(r))
}

/// A requester's own requests, an officer's assigned ones, or (neither given) all of them.
pub async fn list(db: &Db, requester: Option<&str>, officer: Option<&str>) -> StoreResult<Vec<Request>> {
    let rows = query(format!(
        "SELECT {COLUMNS} {FROM} WHERE (CAST($1 AS TEXT) IS NULL OR r.requester_id = $1) \
         AND (CAST($2 AS TEXT) IS NULL OR r.officer_id = $2) \
         ORDER BY r.created_at DESC LIMIT 200"
    ))
    .bind(requester)
    .bind(officer)
    .read_all(db)
    .await?;
    let vault = db.vault()?;
    rows.iter().map(|r| from_row(r, vault)).collect()
}

pub struct NewRequest {
    pub id: String,
    pub requester_id: String,
    pub enterprise: Option<String>,
    pub item_code: Option<String>,
    pub project_name: Option<String>,
    pub description: String,
    pub contact_phone: String,
}

pub async fn create(db: &Db, r: NewRequest) -> StoreResult<()> {
    let now = db.now_text();
    let phone = db.vault()?.seal(&r.contact_phone, PHONE_COLUMN);
    db.write(move |conn| {

            query(
                "INSERT INTO assistance_requests (id, requester_id, enterprise, item_code, project_name, description, \
                 contact_phone, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested', $8, $8)",
            )
            .bind(&r.id)
            .bind(&r.requester_id)
            .bind(&r.enterprise)
            .bind(&r.item_code)
            .bind(&r.project_name)
            .bind(&r.description)
            .bind(&phone)
            .bind(&now)
            .execute(&mut *conn)?;
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("assistance:{}", r.id),
                    format!("user:{}", r.requester_id),
                    "assistance.request",
                    format!("assistance:{}", r.id),
                    r.item_code.clone().or(r.project_name.clone()).unwrap_or_default(),
                ),
            )?;
            Ok(())

    })
    .await
}

/// A state change: `UPDATE … WHERE version = seen` with the given assignments, audited, with an
/// optional note. `false` when someone changed the request first.
pub struct Change {
    pub id: String,
    pub version: i64,
    pub action: &'static str,
    pub actor_id: String,
    pub actor_name: String,
    pub status: Option<&'static str>,
    pub officer_id: Option<String>,
    pub assigned_by: Option<String>,
    pub poa_text: Option<String>,
    pub rating: Option<(i64, Option<String>)>,
    pub note: Option<String>,
}

pub async fn change(db: &Db, c: Change) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {

            let (rating, comment) = match &c.rating {
                Some((r, comment)) => (Some(*r), comment.clone()),
                None => (None, None),
            };
            let done = query(
                "UPDATE assistance_requests SET status = COALESCE($1, status), officer_id = COALESCE($2, officer_id), \
                 assigned_by = COALESCE($3, assigned_by), poa_text = COALESCE($4, poa_text), \
                 poa_signed_at = CASE WHEN $4 IS NULL THEN poa_signed_at ELSE $5 END, \
                 rating = COALESCE($6, rating), rating_comment = COALESCE($7, rating_comment), updated_at = $5, \
                 version = version + 1 WHERE id = $8 AND version = $9",
            )
            .bind(c.status)
            .bind(&c.officer_id)
            .bind(&c.assigned_by)
            .bind(&c.poa_text)
            .bind(&now)
            .bind(rating)
            .bind(&comment)
            .bind(&c.id)
            .bind(c.version)
            .execute(&mut *conn)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict);
            }
            if let Some(text) = &c.note {
                let seq: i64 = query("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM assistance_notes WHERE request_id = $1")
                    .bind(&c.id)
                    .fetch_one(&mut *conn)?
                    .try_get("n")?;
                query(
                    "INSERT INTO assistance_notes (request_id, seq, author_id, author_name, text, at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&c.id)
                .bind(seq)
                .bind(&c.actor_id)
                .bind(&c.actor_name)
                .bind(text)
                .bind(&now)
                .execute(&mut *conn)?;
            }
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("assistance:{}", c.id),
                    format!("user:{}", c.actor_id),
                    format!("assistance.{}", c.action),
                    format!("assistance:{}", c.id),
                    c.note.clone().unwrap_or_default(),
                ),
            )?;
            Ok(())

    })
    .await
}

/// Whether `officer` holds a power of attorney from `requester` (an authorised, open request)
/// that covers a case of `code` (its item or bundle) for `enterprise`: one signed for an item
/// covers that item only; one signed for a described project ("所述事项") covers the requester's
/// cases for the same enterprise.
pub async fn holds_attorney(
    db: &Db,
    officer: &str,
    requester: &str,
    code: &str,
    enterprise: Option<&str>,
) -> StoreResult<bool> {
    Ok(query(
        "SELECT 1 AS x FROM assistance_requests WHERE officer_id = $1 AND requester_id = $2 AND status = 'authorized' \
         AND (item_code IS NULL OR item_code = $3) AND COALESCE(enterprise, '') = $4",
    )
    .bind(officer)
    .bind(requester)
    .bind(code)
    .bind(enterprise.unwrap_or(""))
    .read_optional(db)
    .await?
    .is_some())
}
