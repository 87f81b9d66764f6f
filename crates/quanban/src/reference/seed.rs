//! Loading the reference data into the database: idempotent (a content hash records what was
//! loaded, so a second run changes nothing), all-or-nothing (one transaction), audited.

use anyhow::Context;
use sm3::{Digest, Sm3};

use super::data::{self, ReferenceData};
use crate::audit::{self, NewEntry};
use crate::calendar::domain::parse_holidays_file;
use crate::store::{Db, StoreError, StoreResult, Tx, query};

#[derive(Debug, Clone, serde::Serialize)]
pub struct SeedReport {
    /// False when the same data was already loaded.
    pub changed: bool,
    pub departments: usize,
    pub halls: usize,
    pub items: usize,
    pub bundles: usize,
    pub elicence_types: usize,
    pub policies: usize,
    pub holiday_years: usize,
}

/// Checks the shipped data and loads it. Fails naming the first bad record.
pub async fn seed(db: &Db) -> anyhow::Result<SeedReport> {
    let data = data::shipped().context("parsing the shipped reference data")?;
    if let Err(problems) = data.check() {
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        anyhow::bail!("reference data has {} problem(s):\n  {}", list.len(), list.join("\n  "));
    }
    seed_checked(db, data).await
}

fn content_hash(files: &data::RawFiles) -> String {
    let mut h = Sm3::new();
    for text in [
        files.departments,
        files.catalog,
        files.bundles,
        files.elicence_types,
        files.halls,
        files.holidays,
        files.policies,
    ] {
        h.update((text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    hex::encode(h.finalize())
}

async fn seed_checked(db: &Db, data: ReferenceData) -> anyhow::Result<SeedReport> {
    let hash = content_hash(&data::RawFiles::SHIPPED);
    let years =
        parse_holidays_file(data.holidays_json).map_err(|e| anyhow::anyhow!("holidays_cn.json: {e}"))?;
    let mut report = SeedReport {
        changed: false,
        departments: data.departments.len(),
        halls: data.halls.halls.len(),
        items: data.catalog.items.len(),
        bundles: data.bundles.len(),
        elicence_types: data.elicence_types.len(),
        policies: data.policies.policies.len(),
        holiday_years: years.len(),
    };
    let summary = format!(
        "reference data {}: {} departments, {} halls, {} items, {} bundles, {} e-licence types, {} policies, {} holiday years",
        &hash[..12],
        report.departments,
        report.halls,
        report.items,
        report.bundles,
        report.elicence_types,
        report.policies,
        report.holiday_years
    );
    let now = db.now_text();
    let changed = db
        .write(move |conn| {
            // Claim first: the row lock makes a second process starting at the same time wait
            // for this one and then find the hash already recorded (no double load).
            let claimed = query(
                "INSERT INTO settings (key, value) VALUES ('reference_hash', $1) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value \
                     WHERE settings.value <> excluded.value",
            )
            .bind(&hash)
            .execute(&mut *conn)?;
            if claimed.rows_affected() == 0 {
                return Ok(false);
            }
            load(conn, &now, &data, &years)?;
            audit::store::append(
                conn,
                &now,
                NewEntry::new("system", "system", "reference.seeded", "reference", summary),
            )?;
            Ok(true)
        })
        .await?;
    report.changed = changed;
    Ok(report)
}

fn load(
    conn: &mut dyn Tx,
    now: &str,
    data: &ReferenceData,
    years: &[crate::calendar::domain::HolidayYear],
) -> StoreResult<()> {
    for d in &data.departments {
        query(
            "INSERT INTO departments (code, name, name_en, level, district, kind, data) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, level = excluded.level, \
             district = excluded.district, kind = excluded.kind, data = excluded.data",
        )
        .bind(&d.code)
        .bind(&d.name)
        .bind(&d.name_en)
        .bind(&d.level)
        .bind(&d.district)
        .bind(&d.kind)
        .bind(to_json(d)?)
        .execute(&mut *conn)?;
    }
    // Parents before children, so the foreign key holds at every insert.
    let order = ["city", "district", "street", "community"];
    let mut halls: Vec<_> = data.halls.halls.iter().collect();
    halls.sort_by_key(|h| order.iter().position(|l| *l == h.level).unwrap_or(order.len()));
    for h in halls {
        query(
            "INSERT INTO halls (code, name, level, parent, district, data) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent, \
             district = excluded.district, data = excluded.data",
        )
        .bind(&h.code)
        .bind(&h.name)
        .bind(&h.level)
        .bind(&h.parent)
        .bind(&h.district)
        .bind(to_json(h)?)
        .execute(&mut *conn)?;
    }
    // The catalog is loaded once as version 1 of every item; from then on it changes only
    // through approved proposals (a newer shipped catalog is imported as a proposal).
    // In force from its publication date, or from the day it was loaded if that is earlier (a
    // platform set up before the catalog's date still has a catalog today).
    let published = format!("{}-01", data.catalog.version);
    let effective = published.clone().min(now.get(..10).unwrap_or(&published).to_string());
    crate::catalog::store::seed_initial(conn, now, &data.catalog.items, &data.departments, &effective)?;
    for b in &data.bundles {
        upsert_record(conn, "bundle", &b.code, &b.name, None, to_json(b)?)?;
    }
    for e in &data.elicence_types {
        upsert_record(conn, "elicence_type", &e.code, &e.name, Some(&e.issuer), to_json(e)?)?;
    }
    for p in &data.policies.policies {
        upsert_record(conn, "policy", &p.code, &p.name, Some(&p.department), to_json(p)?)?;
    }
    for y in years {
        crate::calendar::store::upsert_year(conn, now, y, "holidays_cn.json")?;
    }
    Ok(())
}

fn upsert_record(
    conn: &mut dyn Tx,
    kind: &str,
    code: &str,
    name: &str,
    department: Option<&str>,
    body: String,
) -> StoreResult<()> {
    query(
        "INSERT INTO reference_records (kind, code, name, department, data) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (kind, code) DO UPDATE SET name = excluded.name, department = excluded.department, data = excluded.data",
    )
    .bind(kind)
    .bind(code)
    .bind(name)
    .bind(department)
    .bind(body)
    .execute(&mut *conn)?;
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Counts rows per reference table (used by tests and `seed`'s output).
pub async fn counts(db: &Db) -> StoreResult<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for (name, sql) in [
        ("departments", "SELECT COUNT(*) AS n FROM departments"),
        ("halls", "SELECT COUNT(*) AS n FROM halls"),
        ("catalog_items", "SELECT COUNT(*) AS n FROM catalog_items"),
        ("bundles", "SELECT COUNT(*) AS n FROM reference_records WHERE kind = 'bundle'"),
        ("elicence_types", "SELECT COUNT(*) AS n FROM reference_records WHERE kind = 'elicence_type'"),
        ("policies", "SELECT COUNT(*) AS n FROM reference_records WHERE kind = 'policy'"),
        ("holiday_years", "SELECT COUNT(*) AS n FROM holiday_years"),
    ] {
        let row = query(sql).read_one(db).await?;
        out.push((name.to_string(), row.try_get("n")?));
    }
    Ok(out)
}
