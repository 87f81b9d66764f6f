//! Accounts in the database. Every write appends its audit entry in the same transaction.

use rand::RngCore;

use super::authz::Role;
use crate::audit::{self, NewEntry};
use crate::store::{Db, StoreError, StoreResult, Tx, query};

/// A fresh opaque id for a user (128 random bits, hex).
pub fn new_user_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A checked registration, ready to store: the ID number and the mobile number only sealed
/// (SM4-GCM) and digested (keyed SM3) by [`crate::platform::pii::Vault`], never in clear.
pub struct NewPerson {
    pub name: String,
    /// The login name: `p:` + the digest of the mobile number.
    pub login: String,
    pub id_number_sealed: String,
    pub id_number_digest: String,
    pub id_number_masked: String,
    pub phone_sealed: String,
    pub phone_digest: String,
    pub phone_masked: String,
    pub password_hash: String,
}

impl NewPerson {
    /// Seals and digests the checked clear values.
    pub fn sealed(
        vault: &crate::platform::pii::Vault,
        name: String,
        id_number: &str,
        id_number_masked: String,
        phone: &str,
        phone_masked: String,
        password_hash: String,
    ) -> NewPerson {
        NewPerson {
            name,
            login: vault.person_login(phone),
            id_number_sealed: vault.seal(id_number, "users.id_number"),
            id_number_digest: vault.digest("id_number", id_number),
            id_number_masked,
            phone_sealed: vault.seal(phone, "users.phone"),
            phone_digest: vault.digest("phone", phone),
            phone_masked,
            password_hash,
        }
    }
}

pub async fn create_person(db: &Db, p: NewPerson) -> StoreResult<String> {
    let id = new_user_id();
    let uid = id.clone();
    let now = db.now_text();
    db.write(move |conn| create_person_in(conn, &now, &uid, &p)).await?;
    Ok(id)
}

/// The insert itself, inside the caller's transaction.
pub fn create_person_in(conn: &mut dyn Tx, now: &str, uid: &str, p: &NewPerson) -> StoreResult<()> {
    let now = now.to_string();
    let taken = query(
        "SELECT (SELECT COUNT(*) FROM users WHERE id_number_digest = $1) AS by_id, \
                (SELECT COUNT(*) FROM users WHERE username = $2 OR phone_digest = $3) AS by_phone",
    )
    .bind(&p.id_number_digest)
    .bind(&p.login)
    .bind(&p.phone_digest)
    .fetch_one(&mut *conn)?;
    if taken.try_get::<i64, _>("by_id")? > 0 {
        return Err(StoreError::Duplicate("id_number"));
    }
    if taken.try_get::<i64, _>("by_phone")? > 0 {
        return Err(StoreError::Duplicate("phone"));
    }
    query(
        "INSERT INTO users (id, kind, username, name, id_number, id_number_masked, phone, password_hash, \
         department, status, created_at, updated_at, version, id_number_digest, phone_digest, phone_masked) \
         VALUES ($1, 'person', $2, $3, $4, $5, $6, $7, NULL, 'active', $8, $8, 1, $9, $10, $11)",
    )
    .bind(uid)
    .bind(&p.login)
    .bind(&p.name)
    .bind(&p.id_number_sealed)
    .bind(&p.id_number_masked)
    .bind(&p.phone_sealed)
    .bind(&p.password_hash)
    .bind(&now)
    .bind(&p.id_number_digest)
    .bind(&p.phone_digest)
    .bind(&p.phone_masked)
    .execute(&mut *conn)
    .map_err(|e| StoreError::unique_as(e, "id_number"))?;
    let stream = format!("user:{uid}");
    audit::store::append(
        conn,
        &now,
        NewEntry::new(
            &stream,
            &stream,
            "identity.register",
            &stream,
            format!("registered person, id {} phone {}", p.id_number_masked, p.phone_masked),
        ),
    )?;
    Ok(())
}

pub struct NewStaff {
    pub username: String,
    pub name: String,
    pub department: String,
    pub roles: Vec<Role>,
    pub halls: Vec<String>,
    pub password_hash: String,
}

/// Creates a staff account; `actor` is who did it (for the audit log).
pub async fn create_staff(db: &Db, actor: String, s: NewStaff) -> StoreResult<String> {
    let id = new_user_id();
    let uid = id.clone();
    let now = db.now_text();
    db.write(move |conn| create_staff_in(conn, &now, &actor, &uid, &s)).await?;
    Ok(id)
}

/// The insert itself, inside the caller's transaction.
pub fn create_staff_in(
    conn: &mut dyn Tx,
    now: &str,
    actor: &str,
    uid: &str,
    s: &NewStaff,
) -> StoreResult<()> {
    let now = now.to_string();
    let dept = query("SELECT code FROM departments WHERE code = $1")
        .bind(&s.department)
        .fetch_optional(&mut *conn)?;
    if dept.is_none() {
        return Err(StoreError::Invalid(format!("unknown department {}", s.department)));
    }
    query(
        "INSERT INTO users (id, kind, username, name, id_number, id_number_masked, phone, password_hash, \
         department, status, created_at, updated_at, version) \
         VALUES ($1, 'staff', $2, $3, NULL, NULL, NULL, $4, $5, 'active', $6, $6, 1)",
    )
    .bind(uid)
    .bind(&s.username)
    .bind(&s.name)
    .bind(&s.password_hash)
    .bind(&s.department)
    .bind(&now)
    .execute(&mut *conn)
    .map_err(|e| StoreError::unique_as(e, "username"))?;
    for role in &s.roles {
        query("INSERT INTO user_roles (user_id, role, department) VALUES ($1, $2, $3)")
            .bind(uid)
            .bind(role.as_str())
            .bind(&s.department)
            .execute(&mut *conn)?;
    }
    for hall in &s.halls {
        query("INSERT INTO staff_halls (user_id, hall) VALUES ($1, $2)")
            .bind(uid)
            .bind(hall)
            .execute(&mut *conn)
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::Invalid(format!("unknown hall {hall}"))
                }
                _ => StoreError::Database(e),
            })?;
    }
    let roles: Vec<&str> = s.roles.iter().map(|r| r.as_str()).collect();
    audit::store::append(
        conn,
        &now,
        NewEntry::new(
            format!("user:{uid}"),
            actor,
            "identity.staff_created",
            format!("user:{uid}"),
            format!("staff {} in {} with roles [{}]", s.username, s.department, roles.join(", ")),
        ),
    )?;
    Ok(())
}

/// What login needs to know about an account.
pub struct LoginRecord {
    pub id: String,
    pub password_hash: String,
    pub active: bool,
    /// A staff account (lands on the workbench after signing in).
    pub staff: bool,
}

/// Finds an account by login name: a staff username, or a person's mobile number.
pub async fn find_login(db: &Db, username: &str) -> StoreResult<Option<LoginRecord>> {
    let row = query("SELECT id, password_hash, status, kind FROM users WHERE username = $1")
        .bind(username)
        .read_optional(db)
        .await?;
    row.map(|r| {
        Ok(LoginRecord {
            id: r.try_get("id")?,
            password_hash: r.try_get("password_hash")?,
            active: r.try_get::<String, _>("status")? == "active",
            staff: r.try_get::<String, _>("kind")? == "staff",
        })
    })
    .transpose()
}

/// The account as its owner (or a permitted reader) sees it: personal data masked.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Profile {
    pub id: String,
    /// `person` or `staff`.
    pub kind: String,
    pub username: String,
    pub name: String,
    /// Masked, e.g. `3701**********1234`.
    pub id_number_masked: Option<String>,
    pub phone_masked: Option<String>,
    pub department: Option<DepartmentRef>,
    pub roles: Vec<RoleRef>,
    pub halls: Vec<String>,
    pub enterprises: Vec<EnterpriseRef>,
    pub version: i64,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DepartmentRef {
    pub code: String,
    pub name: String,
    pub name_en: String,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RoleRef {
    pub role: String,
    pub department: String,
    pub label_zh: String,
    pub label_en: String,
}

#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EnterpriseRef {
    pub credit_code: String,
    pub name: String,
    /// `legal_representative` or `agent`.
    pub relation: String,
}

pub async fn profile(db: &Db, user_id: &str) -> StoreResult<Profile> {
    let row = query(
        "SELECT u.id, u.kind, u.username, u.name, u.id_number_masked, u.phone_masked, u.version, \
                d.code AS dcode, d.name AS dname, d.name_en AS dname_en \
         FROM users u LEFT JOIN departments d ON d.code = u.department WHERE u.id = $1",
    )
    .bind(user_id)
    .read_optional(db)
    .await?
    .ok_or(StoreError::NotFound)?;
    let phone_masked: Option<String> = row.try_get("phone_masked")?;
    let department = match row.try_get::<Option<String>, _>("dcode")? {
        Some(code) => {
            Some(DepartmentRef { code, name: row.try_get("dname")?, name_en: row.try_get("dname_en")? })
        }
        None => None,
    };
    let kind: String = row.try_get("kind")?;
    // People have no roles or halls and staff act for no enterprise: skip the queries that
    // cannot return rows (this is on the path of every `/api/v1/me`).
    let (roles, halls, enterprises) = if kind == "staff" {
        (staff_roles(db, user_id).await?, staff_halls(db, user_id).await?, Vec::new())
    } else {
        (Vec::new(), Vec::new(), person_enterprises(db, user_id).await?)
    };
    // A person's login name is a digest of their number: they see the number, masked.
    let username = match (&phone_masked, kind.as_str()) {
        (Some(masked), "person") => masked.clone(),
        _ => row.try_get("username")?,
    };
    Ok(Profile {
        id: row.try_get("id")?,
        kind,
        username,
        name: row.try_get("name")?,
        id_number_masked: row.try_get("id_number_masked")?,
        phone_masked,
        department,
        roles,
        halls,
        enterprises,
        version: row.try_get("version")?,
    })
}

async fn staff_roles(db: &Db, user_id: &str) -> StoreResult<Vec<RoleRef>> {
    Ok(query("SELECT role, department FROM user_roles WHERE user_id = $1 ORDER BY department, role")
        .bind(user_id)
        .read_all(db)
        .await?
        .iter()
        .filter_map(|r| {
            let role = Role::parse(&r.try_get::<String, _>("role").ok()?)?;
            Some(RoleRef {
                role: role.as_str().into(),
                department: r.try_get("department").ok()?,
                label_zh: role.label_zh().into(),
                label_en: role.label_en().into(),
            })
        })
        .collect())
}

async fn staff_halls(db: &Db, user_id: &str) -> StoreResult<Vec<String>> {
    let rows = query("SELECT hall FROM staff_halls WHERE user_id = $1 ORDER BY hall")
        .bind(user_id)
        .read_all(db)
        .await?;
    Ok(rows.iter().map(|r| r.try_get("hall")).collect::<Result<_, _>>()?)
}

async fn person_enterprises(db: &Db, user_id: &str) -> StoreResult<Vec<EnterpriseRef>> {
    let rows = query(
        "SELECT e.credit_code, e.name, m.relation FROM enterprise_members m \
         JOIN enterprises e ON e.credit_code = m.credit_code WHERE m.user_id = $1 ORDER BY e.credit_code",
    )
    .bind(user_id)
    .read_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok(EnterpriseRef {
                credit_code: r.try_get("credit_code")?,
                name: r.try_get("name")?,
                relation: r.try_get("relation")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?)
}

/// Changes the display name, guarded by the version the caller read (optimistic concurrency).
pub async fn rename(db: &Db, user_id: &str, name: String, expected_version: i64) -> StoreResult<i64> {
    let uid = user_id.to_string();
    let now = db.now_text();
    db.write(move |conn| {

            let done = query(
                "UPDATE users SET name = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4",
            )
            .bind(&name)
            .bind(&now)
            .bind(&uid)
            .bind(expected_version)
            .execute(&mut *conn)?;
            if done.rows_affected() == 0 {
                let exists = query("SELECT id FROM users WHERE id = $1").bind(&uid).fetch_optional(&mut *conn)?;
                return Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound });
            }
            let stream = format!("user:{uid}");
            audit::store::append(conn, &now, NewEntry::new(&stream, &stream, "identity.renamed", &stream, "display name changed"))?;
            Ok(expected_version + 1)

    })
    .await
}

/// An enterprise and the person who registers it as its legal representative.
pub struct NewEnterprise {
    pub credit_code: String,
    pub name: String,
    pub legal_representative: String,
}

pub async fn create_enterprise(db: &Db, owner_user_id: &str, e: NewEnterprise) -> StoreResult<()> {
    let uid = owner_user_id.to_string();
    let now = db.now_text();
    db.write(move |conn| create_enterprise_in(conn, &now, &uid, &e)).await
}

/// The insert itself, inside the caller's transaction.
pub fn create_enterprise_in(conn: &mut dyn Tx, now: &str, uid: &str, e: &NewEnterprise) -> StoreResult<()> {
    let now = now.to_string();
    query(
        "INSERT INTO enterprises (credit_code, name, legal_representative, created_at, version) VALUES ($1, $2, $3, $4, 1)",
    )
    .bind(&e.credit_code)
    .bind(&e.name)
    .bind(&e.legal_representative)
    .bind(&now)
    .execute(&mut *conn)
    .map_err(|err| StoreError::unique_as(err, "credit_code"))?;
    query(
        "INSERT INTO enterprise_members (credit_code, user_id, relation, granted_at) VALUES ($1, $2, 'legal_representative', $3)",
    )
    .bind(&e.credit_code)
    .bind(uid)
    .bind(&now)
    .execute(&mut *conn)?;
    audit::store::append(
        conn,
        &now,
        NewEntry::new(
            format!("enterprise:{}", e.credit_code),
            format!("user:{uid}"),
            "identity.enterprise_registered",
            format!("enterprise:{}", e.credit_code),
            format!("enterprise {} registered by its legal representative", e.credit_code),
        ),
    )?;
    Ok(())
}

/// Lets `agent_user_id` act for the enterprise (granted by a member of it).
pub async fn add_agent(db: &Db, granted_by: &str, credit_code: &str, agent_user_id: &str) -> StoreResult<()> {
    let (by, code, agent) = (granted_by.to_string(), credit_code.to_string(), agent_user_id.to_string());
    let now = db.now_text();
    db.write(move |conn| {

            query(
                "INSERT INTO enterprise_members (credit_code, user_id, relation, granted_at) VALUES ($1, $2, 'agent', $3) \
                 ON CONFLICT (credit_code, user_id) DO NOTHING",
            )
            .bind(&code)
            .bind(&agent)
            .bind(&now)
            .execute(&mut *conn)?;
            audit::store::append(
                conn,
                &now,
                NewEntry::new(
                    format!("enterprise:{code}"),
                    format!("user:{by}"),
                    "identity.agent_authorised",
                    format!("enterprise:{code}"),
                    format!("user:{agent} may act for the enterprise"),
                ),
            )?;
            Ok(())

    })
    .await
}

/// Finds a person's user id by mobile number (for authorising agents, window registration).
pub async fn person_by_phone(
    db: &Db,
    vault: &crate::platform::pii::Vault,
    phone: &str,
) -> StoreResult<Option<String>> {
    let row = query("SELECT id FROM users WHERE kind = 'person' AND phone_digest = $1")
        .bind(vault.digest("phone", phone))
        .read_optional(db)
        .await?;
    row.map(|r| r.try_get("id")).transpose().map_err(Into::into)
}

/// Records that staff read someone's personal data (the read itself is the change being logged).
pub async fn record_read(db: &Db, actor: String, resource: String, what: &'static str) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |conn| {
        audit::store::append(
            conn,
            &now,
            NewEntry::new(&resource, &actor, "personal_data.read", &resource, what),
        )
        .map(|_| ())
    })
    .await
}

/// A staff account's id by login name.
pub async fn staff_by_username(db: &Db, username: &str) -> StoreResult<Option<String>> {
    let row = query("SELECT id FROM users WHERE username = $1 AND kind = 'staff' AND status = 'active'")
        .bind(username)
        .read_optional(db)
        .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

/// A staff member's name and department name.
pub async fn staff_name_and_department(db: &Db, user_id: &str) -> StoreResult<(String, String)> {
    let row = query(
        "SELECT u.name, COALESCE(d.name, '') AS department FROM users u LEFT JOIN departments d ON d.code = u.department \
         WHERE u.id = $1",
    )
    .bind(user_id)
    .read_optional(db)
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok((row.try_get("name")?, row.try_get("department")?))
}

/// A person's mobile number (for complaints and callbacks filed under their account).
pub async fn phone_of(
    db: &Db,
    vault: &crate::platform::pii::Vault,
    user_id: &str,
) -> StoreResult<Option<String>> {
    let row = query("SELECT phone FROM users WHERE id = $1").bind(user_id).read_optional(db).await?;
    match row.map(|r| r.try_get::<Option<String>, _>("phone")).transpose()?.flatten() {
        Some(sealed) => {
            vault.open(&sealed, "users.phone").map(Some).map_err(|e| StoreError::Invalid(e.to_string()))
        }
        None => Ok(None),
    }
}

/// A person's ID number in clear (for the areas that must print it: an ID card's e-licence).
pub async fn id_number_of(
    db: &Db,
    vault: &crate::platform::pii::Vault,
    user_id: &str,
) -> StoreResult<Option<String>> {
    let row = query("SELECT id_number FROM users WHERE id = $1").bind(user_id).read_optional(db).await?;
    match row.map(|r| r.try_get::<Option<String>, _>("id_number")).transpose()?.flatten() {
        Some(sealed) => {
            vault.open(&sealed, "users.id_number").map(Some).map_err(|e| StoreError::Invalid(e.to_string()))
        }
        None => Ok(None),
    }
}

/// Seals what was stored in clear before personal data was sealed (run at start-up, idempotent:
/// it touches only rows without digests). Returns how many people it sealed.
pub async fn seal_clear_personal_data(db: &Db, vault: &crate::platform::pii::Vault) -> StoreResult<u64> {
    let rows = query(
        "SELECT id, phone, id_number FROM users WHERE kind = 'person' AND (phone_digest IS NULL OR id_number_digest IS NULL)",
    )
    .read_all(db)
    .await?;
    let mut changes = Vec::new();
    for r in rows {
        let id: String = r.try_get("id")?;
        let phone = r.try_get::<Option<String>, _>("phone")?.unwrap_or_default();
        let id_number = r.try_get::<Option<String>, _>("id_number")?.unwrap_or_default();
        let open = |v: &str, c: &str| vault.open(v, c).map_err(|e| StoreError::Invalid(e.to_string()));
        let (phone, id_number) = (open(&phone, "users.phone")?, open(&id_number, "users.id_number")?);
        let masked = if phone.len() == 11 && phone.is_ascii() {
            format!("{}****{}", &phone[..3], &phone[7..])
        } else {
            "****".into()
        };
        changes.push((
            id,
            vault.person_login(&phone),
            vault.seal(&phone, "users.phone"),
            vault.digest("phone", &phone),
            masked,
            vault.seal(&id_number, "users.id_number"),
            vault.digest("id_number", &id_number),
        ));
    }
    if changes.is_empty() {
        return Ok(0);
    }
    let now = db.now_text();
    db.write(move |conn| {
        // Another process starting on the same database may seal the same rows at the same
        // time: each row is claimed by its guard, and only what this run sealed is counted.
        let mut sealed = 0u64;
        for (id, login, phone, phone_digest, masked, id_number, id_digest) in &changes {
            sealed += query(
                "UPDATE users SET username = $1, phone = $2, phone_digest = $3, phone_masked = $4, \
                     id_number = $5, id_number_digest = $6 WHERE id = $7 AND phone_digest IS NULL",
            )
            .bind(login)
            .bind(phone)
            .bind(phone_digest)
            .bind(masked)
            .bind(id_number)
            .bind(id_digest)
            .bind(id)
            .execute(&mut *conn)?
            .rows_affected();
        }
        if sealed == 0 {
            return Ok(0);
        }
        audit::store::append(
            conn,
            &now,
            NewEntry::new(
                "system",
                "system",
                "identity.personal_data_sealed",
                "users",
                format!("sealed the ID and mobile numbers of {sealed} people stored in clear"),
            ),
        )?;
        Ok(sealed)
    })
    .await
}
