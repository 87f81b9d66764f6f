//! The hand-off queue (人工导引) in the database.

use crate::audit::{self, NewEntry};
use crate::identity::session::{random_token, token_hash};
use crate::store::{Db, Row, StoreError, StoreResult, query};

/// A question handed to a person.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Handoff {
    pub id: String,
    pub query: String,
    pub note: String,
    /// `open` or `answered`.
    pub status: String,
    pub created_at: String,
    pub answer: Option<String>,
    /// The catalogue items or bundles the officer named as the answer; the guide learns them.
    pub answer_items: Vec<String>,
    pub answered_at: Option<String>,
    pub version: i64,
    #[serde(skip)]
    pub user_id: Option<String>,
    #[serde(skip)]
    pub token_hash: String,
}

fn from_row(r: &Row) -> StoreResult<Handoff> {
    Ok(Handoff {
        id: r.try_get("id")?,
        query: r.try_get("query")?,
        note: r.try_get("note")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        answer: r.try_get("answer")?,
        answer_items: r
            .try_get::<Option<String>, _>("answer_items")?
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        answered_at: r.try_get("answered_at")?,
        version: r.try_get("version")?,
        user_id: r.try_get("user_id")?,
        token_hash: r.try_get("token_hash")?,
    })
}

const COLUMNS: &str =
    "id, query, note, status, created_at, answer, answer_items, answered_at, version, user_id, token_hash";

/// Opens a hand-off; returns it with the secret token that lets an anonymous asker read the answer.
pub async fn open(
    db: &Db,
    user_id: Option<String>,
    query: String,
    note: String,
) -> StoreResult<(Handoff, String)> {
    let id = crate::identity::store::new_user_id();
    let token = random_token();
    let (hid, hash) = (id.clone(), token_hash(&token));
    let now = db.now_text();
    db.write(move |conn| {
        crate::store::query(
            "INSERT INTO guide_handoffs (id, token_hash, user_id, query, note, status, created_at, version) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, 1)",
        )
        .bind(&hid)
        .bind(&hash)
        .bind(&user_id)
        .bind(&query)
        .bind(&note)
        .bind(&now)
        .execute(&mut *conn)?;
        let actor = user_id.as_ref().map(|u| format!("user:{u}")).unwrap_or_else(|| "anonymous".into());
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("handoff:{hid}"),
                actor,
                "guide.handoff_opened",
                format!("handoff:{hid}"),
                "question handed to a person",
            ),
        )?;
        Ok(())
    })
    .await?;
    let h = get(db, &id).await?.ok_or(StoreError::NotFound)?;
    Ok((h, token))
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Handoff>> {
    let row = query(format!("SELECT {COLUMNS} FROM guide_handoffs WHERE id = $1"))
        .bind(id)
        .read_optional(db)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Open hand-offs first (oldest first), then the latest answered ones.
pub async fn inbox(db: &Db) -> StoreResult<Vec<Handoff>> {
    let rows = query(format!(
        "SELECT {COLUMNS} FROM guide_handoffs ORDER BY CASE WHEN status = 'open' THEN 0 ELSE 1 END, \
         CASE WHEN status = 'open' THEN created_at END ASC, answered_at DESC LIMIT 100"
    ))
    .read_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The hand-offs a signed-in person opened.
pub async fn mine(db: &Db, user_id: &str) -> StoreResult<Vec<Handoff>> {
    let rows = query(format!(
        "SELECT {COLUMNS} FROM guide_handoffs WHERE user_id = $1 ORDER BY created_at DESC LIMIT 50"
    ))
    .bind(user_id)
    .read_all(db)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Records a staff answer (guarded by version so two officers do not overwrite each other),
/// with the items or bundles that answer it, if the officer named any.
pub async fn answer(
    db: &Db,
    actor: String,
    id: &str,
    text: String,
    items: Vec<String>,
    expected_version: i64,
) -> StoreResult<Handoff> {
    let hid = id.to_string();
    let now = db.now_text();
    let items_json = (!items.is_empty()).then(|| serde_json::to_string(&items).unwrap_or_default());
    let detail =
        if items.is_empty() { "answered".to_string() } else { format!("answered with {}", items.join(", ")) };
    db.write(move |conn| {
        let done = query(
            "UPDATE guide_handoffs SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3, \
                 answer_items = $6, version = version + 1 WHERE id = $4 AND version = $5",
        )
        .bind(&text)
        .bind(&actor)
        .bind(&now)
        .bind(&hid)
        .bind(expected_version)
        .bind(&items_json)
        .execute(&mut *conn)?;
        if done.rows_affected() == 0 {
            let exists =
                query("SELECT id FROM guide_handoffs WHERE id = $1").bind(&hid).fetch_optional(&mut *conn)?;
            return Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound });
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("handoff:{hid}"),
                &actor,
                "guide.handoff_answered",
                format!("handoff:{hid}"),
                detail,
            ),
        )?;
        Ok(())
    })
    .await?;
    get(db, id).await?.ok_or(StoreError::NotFound)
}

/// A question an officer answered with catalogue codes: what the guide learns from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Learned {
    pub query: String,
    pub codes: Vec<String>,
}

/// The latest questions answered with items (at most 2,000, newest first).
pub async fn learned(db: &Db) -> StoreResult<Vec<Learned>> {
    let rows = query(
        "SELECT query, answer_items FROM guide_handoffs WHERE answer_items IS NOT NULL \
         ORDER BY answered_at DESC LIMIT 2000",
    )
    .read_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let items: String = r.try_get("answer_items")?;
            Ok(Learned {
                query: r.try_get("query")?,
                codes: serde_json::from_str(&items).unwrap_or_default(),
            })
        })
        .collect()
}
