//! Demo accounts: on a fresh data directory (and never with `--production`) the platform creates
//! one account per staff role plus a citizen and an enterprise representative, with random
//! passwords that `quanban demo accounts` prints.

use rand::Rng;
use serde::Serialize;

use crate::audit::{self, NewEntry};
use crate::identity::authz::Role;
use crate::identity::domain::{IdNumber, Phone, credit_code_check_char, id_number_check_char};
use crate::identity::password;
use crate::identity::store::{self, NewEnterprise, NewPerson, NewStaff};
use crate::store::{Db, StoreError, StoreResult, query};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DemoAccount {
    pub role: String,
    pub department: Option<String>,
    pub username: String,
    pub password: String,
}

/// One demo staff account: (login, name, department, roles, halls).
type StaffSeed = (&'static str, &'static str, &'static str, &'static [Role], &'static [&'static str]);

const STAFF: &[StaffSeed] = &[
    ("spj.clerk", "王晓雯", "JN-SPJ", &[Role::WindowClerk], &["JN-H-0001", "JN-H-0002"]),
    ("spj.general", "李建国", "JN-SPJ", &[Role::GeneralWindowClerk], &["JN-H-0001", "JN-H-0002"]),
    ("spj.reviewer", "赵敏", "JN-SPJ", &[Role::Reviewer], &[]),
    ("spj.approver", "孙志强", "JN-SPJ", &[Role::Approver], &[]),
    ("spj.head", "周丽华", "JN-SPJ", &[Role::DepartmentHead], &[]),
    ("spj.catalog", "吴俊", "JN-SPJ", &[Role::CatalogOfficer], &[]),
    ("spj.guide", "何晓琳", "JN-SPJ", &[Role::GuideOfficer], &["JN-H-0001"]),
    ("spj.licence", "钱文博", "JN-SPJ", &[Role::LicenceOfficer], &[]),
    ("scj.clerk", "郑海燕", "JN-SCJ", &[Role::WindowClerk], &[]),
    ("scj.approver", "冯磊", "JN-SCJ", &[Role::Approver], &[]),
    ("dsj.supervisor", "陈静", "JN-DSJ", &[Role::Supervisor], &[]),
    ("hotline.operator", "马丽", "JN-12345", &[Role::HotlineOperator], &[]),
    ("spj.data", "韩雪", "JN-SPJ", &[Role::DataOfficer], &[]),
    ("swj.data", "蒋涛", "JN-SWJ", &[Role::DataOfficer], &[]),
    ("dsj.admin", "刘洋", "JN-DSJ", &[Role::SystemAdmin], &[]),
    ("rsj.policy", "许文静", "JN-RSJ", &[Role::PolicyOfficer], &[]),
    ("rsj.head", "赵立新", "JN-RSJ", &[Role::DepartmentHead], &[]),
    // Member departments of the joint reviews (联合审图、联合验收).
    ("zrj.reviewer", "黄振宇", "JN-ZRJ", &[Role::Reviewer], &[]),
    ("zjj.reviewer", "林静怡", "JN-ZJJ", &[Role::Reviewer], &[]),
];

/// Grants the platform's policy service (the department it reads the registers as) every
/// conditional field the policies read, as if each owner had decided a request for it, so that
/// the demo's 免申即享 runs and benefit pages work; done once per database.
pub async fn ensure_policy_grants(db: &Db) -> anyhow::Result<()> {
    let reader = crate::policies::service::READER_DEPARTMENT;
    let n: i64 =
        query("SELECT COUNT(*) AS n FROM data_requests WHERE requester = $1 AND purpose = 'policy_benefit'")
            .bind(reader)
            .read_one(db)
            .await?
            .try_get("n")?;
    if n > 0 {
        return Ok(());
    }
    crate::data::service::grant_all_conditional(
        db,
        reader,
        crate::data::sharing::Purpose::PolicyBenefit,
        db.clock().today(),
        "system:demo",
    )
    .await
}

/// A password that satisfies the platform's own policy.
fn demo_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let body: String = (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("Qb-{body}7a")
}

/// A valid ID number built from a 17-digit body (for demo and test data).
pub fn id_number(body17: &str) -> Option<String> {
    id_number_check_char(body17).map(|c| format!("{body17}{c}"))
}

/// A valid credit code built from a 17-character body.
pub fn credit_code(body17: &str) -> Option<String> {
    credit_code_check_char(body17).map(|c| format!("{body17}{c}"))
}

/// Production refuses a database that holds demo accounts (checked first at start-up).
pub async fn refuse_in_production(db: &Db) -> anyhow::Result<()> {
    let n = query("SELECT COUNT(*) AS n FROM demo_accounts").read_one(db).await?;
    if n.try_get::<i64, _>("n")? > 0 {
        anyhow::bail!(
            "this database contains demo accounts; production mode refuses to run on it (use a fresh database)"
        );
    }
    Ok(())
}

/// Creates the demo accounts once (no-op when they exist; refused in production).
///
/// Everything happens in one transaction that first claims the `demo_seeded` setting, so several
/// processes starting together on one PostgreSQL database create the accounts exactly once.
pub async fn ensure(db: &Db, production: bool, vault: &crate::platform::pii::Vault) -> anyhow::Result<()> {
    if production {
        return refuse_in_production(db).await;
    }
    if !list(db, vault).await?.is_empty() {
        return Ok(());
    }
    // Hash outside the transaction: argon2 is slow on purpose. One hash per core at a time: one
    // after the other the 21 hashes were most of a fresh start's time to ready, and all at once
    // they held 21 × 19 MiB of argon2 memory, which the allocator kept (460 MB idle).
    use futures::StreamExt;
    let staff_passwords: Vec<String> = STAFF.iter().map(|_| demo_password()).collect();
    let people_passwords: Vec<String> = PEOPLE.iter().map(|_| demo_password()).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let hashes: Vec<String> = futures::stream::iter(staff_passwords.iter().chain(&people_passwords))
        .map(|pw| password::hash(pw.clone()))
        .buffered(cores)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let (staff_hashes, people_hashes) = hashes.split_at(STAFF.len());
    let mut staff = Vec::new();
    let mut accounts = Vec::new();
    for (((login, name, dept, roles, halls), pw), hash) in STAFF.iter().zip(staff_passwords).zip(staff_hashes)
    {
        staff.push(NewStaff {
            username: (*login).into(),
            name: (*name).into(),
            department: (*dept).into(),
            roles: roles.to_vec(),
            halls: halls.iter().map(|h| (*h).to_string()).collect(),
            password_hash: hash.clone(),
        });
        let role = roles.first().map(|r| r.as_str()).unwrap_or("staff");
        accounts.push(DemoAccount {
            role: role.into(),
            department: Some((*dept).into()),
            username: (*login).into(),
            password: pw,
        });
    }
    let mut people = Vec::new();
    for (((role, name, body, phone), pw), hash) in PEOPLE.iter().zip(people_passwords).zip(people_hashes) {
        let id = id_number(body).ok_or_else(|| anyhow::anyhow!("bad demo id body"))?;
        let person = NewPerson::sealed(
            vault,
            (*name).into(),
            &id,
            IdNumber::parse_as_of(&id, db.clock().today())?.masked(),
            phone,
            Phone::parse(phone)?.masked(),
            hash.clone(),
        );
        let enterprise = if *role == "enterprise" {
            let code =
                credit_code(DEMO_ENTERPRISE.0).ok_or_else(|| anyhow::anyhow!("bad demo credit code"))?;
            Some(NewEnterprise {
                credit_code: code,
                name: DEMO_ENTERPRISE.1.into(),
                legal_representative: (*name).into(),
            })
        } else {
            None
        };
        people.push((person, enterprise));
        accounts.push(DemoAccount {
            role: (*role).into(),
            department: None,
            username: (*phone).into(),
            password: pw,
        });
    }
    // Kept so that `quanban demo accounts` can print them, but sealed like personal data.
    let sealed_passwords: Vec<String> =
        accounts.iter().map(|a| vault.seal(&a.password, "demo_accounts.password")).collect();
    let open311_key = crate::complaints::open311::new_key();
    let now = db.now_text();
    db.write(move |conn| {
        if !crate::store::claim_once(conn, "demo_seeded", &now)? {
            return Ok(());
        }
        for s in &staff {
            store::create_staff_in(conn, &now, "system:demo", &store::new_user_id(), s)?;
        }
        for (person, enterprise) in &people {
            let uid = store::new_user_id();
            store::create_person_in(conn, &now, &uid, person)?;
            if let Some(e) = enterprise {
                store::create_enterprise_in(conn, &now, &uid, e)?;
            }
        }
        for (a, sealed) in accounts.iter().zip(&sealed_passwords) {
            query("INSERT INTO demo_accounts (username, role, department, password) VALUES ($1, $2, $3, $4)")
                .bind(&a.username)
                .bind(&a.role)
                .bind(&a.department)
                .bind(sealed)
                .execute(&mut *conn)?;
        }
        // A working Open311 key for the demo client (only its digest is a credential).
        query("INSERT INTO settings (key, value) VALUES ('demo_open311_key', $1)")
            .bind(&open311_key)
            .execute(&mut *conn)?;
        query("INSERT INTO open311_clients (key_hash, name, created_at, active) VALUES ($1, $2, $3, 1)")
            .bind(crate::complaints::open311::key_hash(&open311_key))
            .bind("演示客户端 Demo client")
            .bind(&now)
            .execute(&mut *conn)?;
        let summary = format!("{} demo accounts", accounts.len());
        audit::store::append(
            conn,
            &now,
            NewEntry::new("system", "system:demo", "demo.accounts_created", "demo_accounts", summary),
        )?;
        Ok(())
    })
    .await?;
    Ok(())
}

/// Demo people: (role, name, ID-number body without its check character, mobile number).
const PEOPLE: &[(&str, &str, &str, &str)] = &[
    ("citizen", "张伟", "37010219900307123", "13800138001"),
    ("enterprise", "刘芳", "37010419850615204", "13800138002"),
];

/// The demo enterprise: (credit-code body without its check character, name).
const DEMO_ENTERPRISE: (&str, &str) = ("91370100MA3C00001", "济南泉城小馆餐饮有限公司");

/// The demo accounts with their passwords (kept sealed: see [`crate::platform::pii`]).
pub async fn list(db: &Db, vault: &crate::platform::pii::Vault) -> StoreResult<Vec<DemoAccount>> {
    let rows =
        query("SELECT username, role, department, password FROM demo_accounts ORDER BY role, username")
            .read_all(db)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(DemoAccount {
                role: r.try_get("role")?,
                department: r.try_get("department")?,
                username: r.try_get("username")?,
                password: vault
                    .open(&r.try_get::<String, _>("password")?, "demo_accounts.password")
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
            })
        })
        .collect()
}

/// The demo Open311 client's key, if the demo accounts were created.
pub async fn open311_key(db: &Db) -> StoreResult<Option<String>> {
    Ok(query("SELECT value FROM settings WHERE key = 'demo_open311_key'")
        .read_optional(db)
        .await?
        .map(|r| r.try_get("value"))
        .transpose()?)
}

/// Enterprises in the demonstration's register.
const DEMO_REGISTER_SIZE: u64 = 2_000;

/// Loads a small enterprise register for the demonstration when the register is empty: 2,000
/// generated enterprises, the demo enterprise among them with the figures that make it owed a
/// 免申即享 benefit (稳岗返还) and eligible to apply for the graduate-hiring subsidy, so that the
/// benefits page, the guide and `quanban policies run` have something to show. One process
/// loads it (a lease); never in production. Returns whether it loaded.
pub async fn ensure_register(db: &Db) -> anyhow::Result<bool> {
    use crate::data::domain::{Register, datasets_of};
    let Some(first) = datasets_of(Register::Enterprises).next() else { return Ok(false) };
    if crate::data::store::count(db, first).await? > 0 {
        return Ok(false);
    }
    let holder = crate::platform::jobs::this_process();
    let lease = "demo_register";
    if !crate::platform::jobs::take_named_lease(db, lease, holder, std::time::Duration::from_secs(300))
        .await?
    {
        return Ok(false);
    }
    let loaded = load_register(db).await;
    crate::platform::jobs::release_named(db, lease, holder).await?;
    loaded
}

async fn load_register(db: &Db) -> anyhow::Result<bool> {
    use crate::data::domain::{Register, datasets_of};
    // Checked again under the lease: another process may have loaded it meanwhile.
    let Some(first) = datasets_of(Register::Enterprises).next() else { return Ok(false) };
    if crate::data::store::count(db, first).await? > 0 {
        return Ok(false);
    }
    let code = credit_code(DEMO_ENTERPRISE.0).ok_or_else(|| anyhow::anyhow!("bad demo credit code"))?;
    let path = std::env::temp_dir().join(format!("quanban-demo-register-{}.csv", std::process::id()));
    let mut csv = Vec::new();
    crate::data::generate::enterprises(DEMO_REGISTER_SIZE, 2026, &mut csv, &mut |_| {})?;
    let text = String::from_utf8(csv)?;
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<String> =
        lines.first().map(|h| h.split(',').map(String::from).collect()).unwrap_or_default();
    if let Some(row) = lines.get_mut(1) {
        let mut cells: Vec<String> = row.split(',').map(String::from).collect();
        for (name, value) in [
            ("uscc", code.as_str()),
            ("name", DEMO_ENTERPRISE.1),
            ("status", "active"),
            ("credit_status", "good"),
            ("size", "small"),
            ("employees_last_year", "12"),
            ("layoffs_last_year", "0"),
            ("unemployment_insurance_paid_last_year", "8650.00"),
            ("new_graduate_hires_last_year", "3"),
        ] {
            if let Some(at) = header.iter().position(|h| h == name)
                && let Some(cell) = cells.get_mut(at)
            {
                *cell = value.to_string();
            }
        }
        *row = cells.join(",");
    }
    std::fs::write(&path, lines.join("\n") + "\n")?;
    let today = db.clock().today();
    let report =
        crate::data::import::import(db, Register::Enterprises, &path, "system:demo", today, &mut |_, _| {})
            .await;
    let _ = std::fs::remove_file(&path);
    let report = report?;
    tracing::info!(
        enterprises = DEMO_REGISTER_SIZE,
        problems = report.problem_count,
        "loaded the demo register"
    );
    Ok(true)
}
