//! Sessions (web cookie and API bearer token) and the failed-login throttle.
//!
//! Tokens are 256 random bits; only their SM3 hash is stored, so a leaked database does not hand
//! out live sessions.

use chrono::Duration;
use rand::RngCore;
use sm3::{Digest, Sm3};

use super::authz::{Actor, Grant, Role};
use crate::audit::{self, NewEntry};
use crate::store::{Db, StoreResult, parse_time, query, time_text};

pub const SESSION_COOKIE: &str = "qb_session";

/// Failures allowed before an account name is locked.
pub const FREE_ATTEMPTS: i64 = 5;

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sm3::digest(token.as_bytes()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

/// A new session: the token goes to the client once and is never stored.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub expires_at: String,
    /// Whether the account is staff: the login that made the session knows (the session table
    /// does not), and the web login sends staff to their workbench.
    pub staff: bool,
}

pub async fn create(db: &Db, user_id: &str, kind: SessionKind, hours: i64) -> StoreResult<NewSession> {
    let (new, row) = prepare(db, user_id, kind, hours);
    db.write(move |conn| insert(conn, &row)).await?;
    Ok(new)
}

/// A session row to insert (the token's hash, never the token).
pub struct SessionRow {
    hash: String,
    user_id: String,
    kind: SessionKind,
    csrf: String,
    created_at: String,
    expires_at: String,
}

/// A new session's token for the client and the row that stores it, before any write.
pub fn prepare(db: &Db, user_id: &str, kind: SessionKind, hours: i64) -> (NewSession, SessionRow) {
    let token = random_token();
    let csrf = random_token();
    let expires_at = time_text(db.now() + Duration::hours(hours.max(1)));
    let row = SessionRow {
        hash: token_hash(&token),
        user_id: user_id.to_string(),
        kind,
        csrf: csrf.clone(),
        created_at: db.now_text(),
        expires_at: expires_at.clone(),
    };
    (NewSession { token, csrf, expires_at, staff: false }, row)
}

/// Stores a session and its audit entry in the caller's transaction (a kiosk's QR sign-in claims
/// its request in the same one).
pub fn insert(conn: &mut dyn crate::store::Tx, row: &SessionRow) -> StoreResult<()> {
    query(
        "INSERT INTO sessions (token_hash, user_id, kind, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.hash)
    .bind(&row.user_id)
    .bind(row.kind.as_str())
    .bind(&row.csrf)
    .bind(&row.created_at)
    .bind(&row.expires_at)
    .execute(&mut *conn)?;
    let stream = format!("user:{}", row.user_id);
    audit::store::append(
        conn,
        &row.created_at,
        NewEntry::new(
            &stream,
            &stream,
            "identity.login",
            &stream,
            format!("{} session opened", row.kind.as_str()),
        ),
    )?;
    Ok(())
}

pub async fn destroy(db: &Db, token: &str) -> StoreResult<()> {
    let hash = token_hash(token);
    let now = db.now_text();
    db.write(move |conn| {
        let row = query("DELETE FROM sessions WHERE token_hash = $1 RETURNING user_id")
            .bind(&hash)
            .fetch_optional(&mut *conn)?;
        if let Some(row) = row {
            let uid: String = row.try_get("user_id")?;
            let stream = format!("user:{uid}");
            audit::store::append(
                conn,
                &now,
                NewEntry::new(&stream, &stream, "identity.logout", &stream, "session closed"),
            )?;
        }
        Ok(())
    })
    .await
}

/// Deletes sessions past their expiry (housekeeping: they are already refused by `lookup`).
pub async fn purge_expired(db: &Db) -> StoreResult<u64> {
    let now = db.now_text();
    db.write(move |conn| {
        let done = query("DELETE FROM sessions WHERE expires_at < $1").bind(&now).execute(&mut *conn)?;
        Ok(done.rows_affected())
    })
    .await
}

pub struct SessionInfo {
    pub user_id: String,
    /// The user's display name (timelines and audit show it).
    pub name: String,
    pub csrf: String,
    pub actor: Actor,
}

/// The live session for `token`, with the actor's roles, or `None` if unknown or expired.
pub async fn lookup(db: &Db, token: &str) -> StoreResult<Option<SessionInfo>> {
    let row = query(
        "SELECT s.user_id, s.csrf, s.expires_at, u.kind, u.department, u.status, u.name FROM sessions s \
         JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
    )
    .bind(token_hash(token))
    .read_optional(db)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let expires: String = row.try_get("expires_at")?;
    let status: String = row.try_get("status")?;
    if parse_time(&expires).is_none_or(|t| t <= db.now()) || status != "active" {
        return Ok(None);
    }
    let user_id: String = row.try_get("user_id")?;
    let csrf: String = row.try_get("csrf")?;
    let kind: String = row.try_get("kind")?;
    let department: Option<String> = row.try_get("department")?;
    let name: String = row.try_get("name")?;
    let actor = load_actor(db, &user_id, &kind, department).await?;
    Ok(Some(SessionInfo { user_id, name, csrf, actor }))
}

pub async fn load_actor(
    db: &Db,
    user_id: &str,
    kind: &str,
    department: Option<String>,
) -> StoreResult<Actor> {
    if kind == "staff" {
        let rows = query("SELECT role, department FROM user_roles WHERE user_id = $1 ORDER BY role")
            .bind(user_id)
            .read_all(db)
            .await?;
        let mut grants = Vec::with_capacity(rows.len());
        for r in rows {
            let role: String = r.try_get("role")?;
            if let Some(role) = Role::parse(&role) {
                grants.push(Grant { role, department: r.try_get("department")? });
            }
        }
        let halls = query("SELECT hall FROM staff_halls WHERE user_id = $1 ORDER BY hall")
            .bind(user_id)
            .read_all(db)
            .await?
            .iter()
            .map(|r| r.try_get("hall"))
            .collect::<Result<_, _>>()?;
        Ok(Actor::Staff {
            user_id: user_id.into(),
            department: department.unwrap_or_default(),
            grants,
            halls,
        })
    } else {
        let rows =
            query("SELECT credit_code FROM enterprise_members WHERE user_id = $1 ORDER BY credit_code")
                .bind(user_id)
                .read_all(db)
                .await?;
        let enterprises = rows.iter().map(|r| r.try_get("credit_code")).collect::<Result<_, _>>()?;
        Ok(Actor::Person { user_id: user_id.into(), enterprises })
    }
}

/// Key of the throttle row for a login name: hashed, so that names of accounts that do not exist
/// are not collected in clear.
pub fn throttle_key(username: &str) -> String {
    token_hash(&username.trim().to_lowercase())
}

/// Seconds until the name may try again, if it is locked now.
pub async fn locked_for(db: &Db, key: &str) -> StoreResult<Option<u64>> {
    let row =
        query("SELECT locked_until FROM login_throttle WHERE key = $1").bind(key).read_optional(db).await?;
    let until: Option<String> = match row {
        Some(r) => r.try_get("locked_until")?,
        None => None,
    };
    Ok(until.and_then(|u| parse_time(&u)).and_then(|t| {
        let left = (t - db.now()).num_seconds();
        (left > 0).then_some(left as u64)
    }))
}

/// Lock duration after `failures` consecutive failures: none for the first few, then doubling
/// from one minute, capped at an hour.
pub fn lockout_minutes(failures: i64) -> Option<i64> {
    if failures < FREE_ATTEMPTS {
        return None;
    }
    let exp = (failures - FREE_ATTEMPTS).min(6) as u32;
    Some((1i64 << exp).min(60))
}

/// Records a failed login; returns the lock length in seconds if the name is now locked.
pub async fn record_failure(db: &Db, key: &str) -> StoreResult<Option<u64>> {
    let key = key.to_string();
    let at = db.now();
    let now = time_text(at);
    db.write(move |conn| {
        let row = query(
            "INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES ($1, 1, NULL, $2) \
                 ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1, updated_at = $2 \
                 RETURNING failures",
        )
        .bind(&key)
        .bind(&now)
        .fetch_one(&mut *conn)?;
        let failures: i64 = row.try_get("failures")?;
        let lock = lockout_minutes(failures);
        if let Some(minutes) = lock {
            query("UPDATE login_throttle SET locked_until = $1 WHERE key = $2")
                .bind(time_text(at + Duration::minutes(minutes)))
                .bind(&key)
                .execute(&mut *conn)?;
        }
        let summary = format!("failed login #{failures}{}", if lock.is_some() { ", locked" } else { "" });
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                "auth",
                "anonymous",
                "identity.login_failed",
                format!("login:{}", &key[..12]),
                summary,
            ),
        )?;
        Ok(lock.map(|m| (m * 60) as u64))
    })
    .await
}

pub async fn clear_failures(db: &Db, key: &str) -> StoreResult<()> {
    let key = key.to_string();
    db.write(move |conn| {
        query("DELETE FROM login_throttle WHERE key = $1").bind(&key).execute(&mut *conn)?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_grows_and_caps() {
        assert_eq!(lockout_minutes(1), None);
        assert_eq!(lockout_minutes(FREE_ATTEMPTS - 1), None);
        assert_eq!(lockout_minutes(FREE_ATTEMPTS), Some(1));
        assert_eq!(lockout_minutes(FREE_ATTEMPTS + 1), Some(2));
        assert_eq!(lockout_minutes(FREE_ATTEMPTS + 5), Some(32));
        assert_eq!(lockout_minutes(FREE_ATTEMPTS + 50), Some(60));
    }

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), a);
    }
}
