//! Seals and credentials in the database.

use serde_json::Value;

use crate::audit::{self, NewEntry};
use crate::store::{Db, Row, StoreError, StoreResult, Tx, query};

/// A seal as stored (private keys still wrapped).
#[derive(Clone, Debug)]
pub struct SealRow {
    pub id: String,
    pub department: String,
    pub department_name: String,
    pub name: String,
    pub serial: String,
    pub ed25519_public: String,
    pub sm2_public: String,
    pub ed25519_secret: String,
    pub sm2_secret: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const SEAL_COLUMNS: &str = "s.id, s.department, d.name AS department_name, s.name, s.serial, s.ed25519_public, \
    s.sm2_public, s.ed25519_secret, s.sm2_secret, s.status, s.status_reason, s.valid_from, s.valid_until, \
    s.created_at, s.updated_at";

fn seal_from_row(r: &Row) -> StoreResult<SealRow> {
    Ok(SealRow {
        id: r.try_get("id")?,
        department: r.try_get("department")?,
        department_name: r.try_get("department_name")?,
        name: r.try_get("name")?,
        serial: r.try_get("serial")?,
        ed25519_public: r.try_get("ed25519_public")?,
        sm2_public: r.try_get("sm2_public")?,
        ed25519_secret: r.try_get("ed25519_secret")?,
        sm2_secret: r.try_get("sm2_secret")?,
        status: r.try_get("status")?,
        status_reason: r.try_get("status_reason")?,
        valid_from: r.try_get("valid_from")?,
        valid_until: r.try_get("valid_until")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub async fn seal(db: &Db, id: &str) -> StoreResult<Option<SealRow>> {
    let sql = format!(
        "SELECT {SEAL_COLUMNS} FROM seals s JOIN departments d ON d.code = s.department WHERE s.id = $1"
    );
    query(sql).bind(id).read_optional(db).await?.as_ref().map(seal_from_row).transpose()
}

pub async fn active_seal(db: &Db, department: &str) -> StoreResult<Option<SealRow>> {
    let sql = format!(
        "SELECT {SEAL_COLUMNS} FROM seals s JOIN departments d ON d.code = s.department \
         WHERE s.department = $1 AND s.status = 'active'"
    );
    query(sql).bind(department).read_optional(db).await?.as_ref().map(seal_from_row).transpose()
}

/// All seals, or one department's, newest first.
pub async fn seals(db: &Db, department: Option<&str>) -> StoreResult<Vec<SealRow>> {
    let sql = format!(
        "SELECT {SEAL_COLUMNS} FROM seals s JOIN departments d ON d.code = s.department \
         WHERE (CAST($1 AS TEXT) IS NULL OR s.department = $1) ORDER BY s.department, s.created_at DESC"
    );
    let rows = query(sql).bind(department).read_all(db).await?;
    rows.iter().map(seal_from_row).collect()
}

/// Departments without an active seal.
pub async fn departments_without_seal(db: &Db) -> StoreResult<Vec<(String, String)>> {
    let rows = query(
        "SELECT code, name FROM departments d WHERE NOT EXISTS \
         (SELECT 1 FROM seals s WHERE s.department = d.code AND s.status = 'active') ORDER BY code",
    )
    .read_all(db)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("code")?, r.try_get("name")?))).collect()
}

/// A new seal, ready to store.
#[derive(Clone, Debug)]
pub struct NewSeal {
    pub id: String,
    pub department: String,
    pub name: String,
    pub serial: String,
    pub ed25519_public: String,
    pub sm2_public: String,
    pub ed25519_secret: String,
    pub sm2_secret: String,
    pub created_by: Option<String>,
}

fn insert_seal(conn: &mut dyn Tx, s: &NewSeal, now: &str) -> StoreResult<u64> {
    // ON CONFLICT DO NOTHING: two processes seeding at once race on the one-active-seal index.
    let done = query(
        "INSERT INTO seals (id, department, name, serial, ed25519_public, sm2_public, ed25519_secret, sm2_secret, \
         status, valid_from, created_at, created_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'active', $9, $9, $10, $9) ON CONFLICT DO NOTHING",
    )
    .bind(&s.id)
    .bind(&s.department)
    .bind(&s.name)
    .bind(&s.serial)
    .bind(&s.ed25519_public)
    .bind(&s.sm2_public)
    .bind(&s.ed25519_secret)
    .bind(&s.sm2_secret)
    .bind(now)
    .bind(&s.created_by)
    .execute(&mut *conn)?;
    Ok(done.rows_affected())
}

/// Stores first seals for departments that have none (seeding); returns how many were added.
pub async fn add_first_seals(db: &Db, seals: Vec<NewSeal>) -> StoreResult<u64> {
    let now = db.now_text();
    db.write(move |conn| {
        let mut added = 0;
        for s in &seals {
            let n = insert_seal(conn, s, &now)?;
            if n > 0 {
                audit::store::append(
                    conn,
                    &now,
                    NewEntry::new(
                        format!("seal:{}", s.department),
                        "system",
                        "seal.create",
                        format!("seal:{}", s.id),
                        format!("{} {}", s.name, s.serial),
                    ),
                )?;
            }
            added += n;
        }
        Ok(added)
    })
    .await
}

/// Retires the department's active seal and makes `new` the active one, in one transaction.
/// Signatures made with the retired seal stay verifiable.
pub async fn rotate(db: &Db, new: NewSeal, actor: String) -> StoreResult<Option<String>> {
    let now = db.now_text();
    db.write(move |conn| {
        let old: Option<String> = query("SELECT id FROM seals WHERE department = $1 AND status = 'active'")
            .bind(&new.department)
            .fetch_optional(&mut *conn)?
            .map(|r| r.try_get("id"))
            .transpose()?;
        query(
            "UPDATE seals SET status = 'retired', valid_until = $1, updated_at = $1, version = version + 1 \
                 WHERE department = $2 AND status = 'active'",
        )
        .bind(&now)
        .bind(&new.department)
        .execute(&mut *conn)?;
        if insert_seal(conn, &new, &now)? == 0 {
            return Err(StoreError::Conflict);
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("seal:{}", new.department),
                format!("user:{actor}"),
                "seal.rotate",
                format!("seal:{}", new.id),
                format!("{} replaces {}", new.id, old.as_deref().unwrap_or("-")),
            ),
        )?;
        Ok(old)
    })
    .await
}

/// Revokes a seal (a compromised key): what it signed no longer verifies.
pub async fn revoke_seal(db: &Db, id: String, reason: String, actor: String) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {

            let row = query(
                "UPDATE seals SET status = 'revoked', status_reason = $1, valid_until = COALESCE(valid_until, $2), \
                 updated_at = $2, version = version + 1 WHERE id = $3 AND status <> 'revoked' RETURNING department",
            )
            .bind(&reason)
            .bind(&now)
            .bind(&id)
            .fetch_optional(&mut *conn)?
            .ok_or(StoreError::NotFound)?;
            let department: String = row.try_get("department")?;
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("seal:{department}"),
                    format!("user:{actor}"),
                    "seal.revoke",
                    format!("seal:{id}"),
                    reason,
                ),
            )?;
            Ok(())

    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
pub struct CredentialRecord {
    pub id: String,
    pub identifier: String,
    pub type_code: String,
    pub issuer: String,
    pub issuer_name: String,
    pub seal_id: String,
    pub holder_kind: String,
    pub holder_user_id: Option<String>,
    pub holder_credit_code: Option<String>,
    pub holder_name: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_index: i64,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub case_number: Option<String>,
    pub document: Value,
    pub issued_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

const CREDENTIAL_COLUMNS: &str = "c.id, c.identifier, c.type_code, c.issuer, d.name AS issuer_name, c.seal_id, \
    c.holder_kind, c.holder_user_id, c.holder_credit_code, c.holder_name, c.status, c.status_reason, c.status_index, \
    c.valid_from, c.valid_until, c.case_number, c.document, c.issued_by, c.created_at, c.updated_at, c.version";

fn credential_from_row(r: &Row) -> StoreResult<CredentialRecord> {
    let doc: String = r.try_get("document")?;
    Ok(CredentialRecord {
        id: r.try_get("id")?,
        identifier: r.try_get("identifier")?,
        type_code: r.try_get("type_code")?,
        issuer: r.try_get("issuer")?,
        issuer_name: r.try_get("issuer_name")?,
        seal_id: r.try_get("seal_id")?,
        holder_kind: r.try_get("holder_kind")?,
        holder_user_id: r.try_get("holder_user_id")?,
        holder_credit_code: r.try_get("holder_credit_code")?,
        holder_name: r.try_get("holder_name")?,
        status: r.try_get("status")?,
        status_reason: r.try_get("status_reason")?,
        status_index: r.try_get("status_index")?,
        valid_from: r.try_get("valid_from")?,
        valid_until: r.try_get("valid_until")?,
        case_number: r.try_get("case_number")?,
        document: serde_json::from_str(&doc).map_err(|e| StoreError::Invalid(e.to_string()))?,
        issued_by: r.try_get("issued_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
    })
}

pub async fn credential(db: &Db, id: &str) -> StoreResult<Option<CredentialRecord>> {
    let sql = format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM credentials c JOIN departments d ON d.code = c.issuer WHERE c.id = $1"
    );
    query(sql).bind(id).read_optional(db).await?.as_ref().map(credential_from_row).transpose()
}

pub async fn id_by_identifier(db: &Db, identifier: &str) -> StoreResult<Option<String>> {
    Ok(query("SELECT id FROM credentials WHERE identifier = $1")
        .bind(identifier)
        .read_optional(db)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?)
}

/// The credentials a case's approval issued.
pub async fn for_case(db: &Db, case_number: &str) -> StoreResult<Vec<CredentialRecord>> {
    let sql = format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM credentials c JOIN departments d ON d.code = c.issuer \
         WHERE c.case_number = $1 ORDER BY c.type_code"
    );
    let rows = query(sql).bind(case_number).read_all(db).await?;
    rows.iter().map(credential_from_row).collect()
}

/// A person's own credentials and those of the enterprises they act for, newest first.
pub async fn for_holder(db: &Db, user_id: &str) -> StoreResult<Vec<CredentialRecord>> {
    let sql = format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM credentials c JOIN departments d ON d.code = c.issuer \
         WHERE c.holder_user_id = $1 OR c.holder_credit_code IN \
         (SELECT credit_code FROM enterprise_members WHERE user_id = $1) \
         ORDER BY c.holder_kind DESC, c.created_at DESC"
    );
    let rows = query(sql).bind(user_id).read_all(db).await?;
    rows.iter().map(credential_from_row).collect()
}

/// An issuer's credentials, newest first, optionally only one type or matching a holder name.
pub async fn for_issuer(
    db: &Db,
    issuer: Option<&str>,
    query: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<CredentialRecord>> {
    let pattern = query.map(|q| format!("%{q}%"));
    let sql = format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM credentials c JOIN departments d ON d.code = c.issuer \
         WHERE (CAST($1 AS TEXT) IS NULL OR c.issuer = $1) AND (CAST($2 AS TEXT) IS NULL OR c.holder_name LIKE $2 OR c.identifier LIKE $2 \
         OR c.case_number LIKE $2 OR c.holder_credit_code LIKE $2) ORDER BY c.created_at DESC LIMIT $3"
    );
    let rows = crate::store::query(sql).bind(issuer).bind(pattern).bind(limit).read_all(db).await?;
    rows.iter().map(credential_from_row).collect()
}

/// Indexes set in an issuer's list for one purpose (`revocation`: revoked; `suspension`: suspended).
pub async fn flagged_indexes(db: &Db, issuer: &str, purpose: &str) -> StoreResult<Vec<usize>> {
    let status = if purpose == "suspension" { "suspended" } else { "revoked" };
    let rows = query("SELECT status_index FROM credentials WHERE issuer = $1 AND status = $2")
        .bind(issuer)
        .bind(status)
        .read_all(db)
        .await?;
    rows.iter().map(|r| Ok(r.try_get::<i64, _>("status_index")? as usize)).collect()
}

/// The status at one list position, if a credential holds it.
pub async fn status_at(db: &Db, issuer: &str, index: i64) -> StoreResult<Option<String>> {
    Ok(query("SELECT status FROM credentials WHERE issuer = $1 AND status_index = $2")
        .bind(issuer)
        .bind(index)
        .read_optional(db)
        .await?
        .map(|r| r.try_get("status"))
        .transpose()?)
}

/// Who the credential is for and what it is, before the document is made.
#[derive(Clone, Debug)]
pub struct NewCredential {
    pub id: String,
    pub type_code: String,
    pub issuer: String,
    pub seal_id: String,
    pub holder_kind: String,
    pub holder_user_id: Option<String>,
    pub holder_credit_code: Option<String>,
    pub holder_name: String,
    pub valid_from: String,
    pub valid_until: Option<String>,
    pub case_number: Option<String>,
    pub issued_by: Option<String>,
    pub actor: String,
    /// Its position in the issuer's status lists (from [`reserve_indexes`]).
    pub status_index: i64,
    pub identifier: String,
    /// The signed Verifiable Credential.
    pub document: Value,
}

/// Reserves `n` status list positions of an issuer; answers the first. Positions reserved but
/// never used stay zero in the lists, which is harmless.
/// Every credential's `(issuer, identifier, status_index)`.
pub async fn status_positions(db: &Db) -> StoreResult<Vec<(String, String, i64)>> {
    let rows = query("SELECT issuer, identifier, status_index FROM credentials").read_all(db).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("issuer")?, r.try_get("identifier")?, r.try_get("status_index")?)))
        .collect()
}

/// A setting's value, if set.
pub async fn setting(db: &Db, key: &str) -> StoreResult<Option<String>> {
    Ok(query("SELECT value FROM settings WHERE key = $1")
        .bind(key)
        .read_optional(db)
        .await?
        .map(|r| r.try_get("value"))
        .transpose()?)
}

/// Sets a setting unless it is set already.
pub async fn set_setting_once(db: &Db, key: &str, value: &str) -> StoreResult<()> {
    let (key, value) = (key.to_string(), value.to_string());
    db.write(move |conn| {
        crate::store::claim_once(conn, &key, &value)?;
        Ok(())
    })
    .await
}

pub async fn reserve_indexes(db: &Db, issuer: String, n: i64) -> StoreResult<i64> {
    db.write(move |conn| {
        let last: i64 = query(
            "INSERT INTO credential_counters (issuer, last) VALUES ($1, $2) \
                 ON CONFLICT (issuer) DO UPDATE SET last = credential_counters.last + $2 RETURNING last",
        )
        .bind(&issuer)
        .bind(n)
        .fetch_one(&mut *conn)?
        .try_get("last")?;
        Ok(last - n + 1)
    })
    .await
}

/// Stores a signed credential inside the caller's transaction and audits it. Returns `false`
/// (and stores nothing) when the case already has this licence.
pub fn issue_in(conn: &mut dyn Tx, now: &str, c: &NewCredential) -> StoreResult<bool> {
    if let Some(case) = &c.case_number {
        let exists = query("SELECT 1 AS x FROM credentials WHERE case_number = $1 AND type_code = $2")
            .bind(case)
            .bind(&c.type_code)
            .fetch_optional(&mut *conn)?;
        if exists.is_some() {
            return Ok(false);
        }
    }
    let now = now.to_string();
    query(
        "INSERT INTO credentials (id, identifier, type_code, issuer, seal_id, holder_kind, holder_user_id, \
         holder_credit_code, holder_name, status, status_index, valid_from, valid_until, case_number, document, \
         issued_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $12, $13, $14, $15, $16, $16)",
    )
    .bind(&c.id)
    .bind(&c.identifier)
    .bind(&c.type_code)
    .bind(&c.issuer)
    .bind(&c.seal_id)
    .bind(&c.holder_kind)
    .bind(&c.holder_user_id)
    .bind(&c.holder_credit_code)
    .bind(&c.holder_name)
    .bind(c.status_index)
    .bind(&c.valid_from)
    .bind(&c.valid_until)
    .bind(&c.case_number)
    .bind(c.document.to_string())
    .bind(&c.issued_by)
    .bind(&now)
    .execute(&mut *conn)?;
    audit::store::append(
        conn,
        &now,
        NewEntry::new(
            format!("credential:{}", c.issuer),
            c.actor.clone(),
            "credential.issue",
            format!("credential:{}", c.id),
            format!(
                "{} {} for {}{}",
                c.type_code,
                c.identifier,
                c.holder_name,
                c.case_number.as_deref().map(|n| format!(" (case {n})")).unwrap_or_default()
            ),
        ),
    )?;
    Ok(true)
}

pub async fn issue(db: &Db, c: NewCredential) -> StoreResult<bool> {
    let now = db.now_text();
    db.write(move |conn| issue_in(conn, &now, &c)).await
}

/// Changes a credential's status (`active`, `suspended`, `revoked`) if it is at `version`.
/// Revocation is final.
pub async fn set_status(
    db: &Db,
    id: String,
    status: &'static str,
    reason: Option<String>,
    version: i64,
    actor: String,
) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        let row = query(
            "UPDATE credentials SET status = $1, status_reason = $2, updated_at = $3, version = version + 1 \
                 WHERE id = $4 AND version = $5 AND status <> 'revoked' RETURNING issuer",
        )
        .bind(status)
        .bind(&reason)
        .bind(&now)
        .bind(&id)
        .bind(version)
        .fetch_optional(&mut *conn)?
        .ok_or(StoreError::Conflict)?;
        let issuer: String = row.try_get("issuer")?;
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                format!("credential:{issuer}"),
                format!("user:{actor}"),
                format!("credential.{status}"),
                format!("credential:{id}"),
                reason.unwrap_or_default(),
            ),
        )?;
        Ok(())
    })
    .await
}

/// Records that a holder let a case use one of their credentials (the consent is audited).
pub fn audit_consent(
    conn: &mut dyn Tx,
    now: &str,
    actor: &str,
    credential_id: &str,
    case_number: &str,
    material: &str,
) -> StoreResult<()> {
    audit::store::append(
        conn,
        now,
        NewEntry::new(
            format!("case:{case_number}"),
            format!("user:{actor}"),
            "credential.consent",
            format!("credential:{credential_id}"),
            format!("used for material “{material}” of case {case_number}"),
        ),
    )
    .map(|_| ())
}
