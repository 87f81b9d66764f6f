//! The registers' datasets in the database: one table per dataset (`data_<id>`), loaded in
//! batches by register imports, each batch one transaction with its audit entry.

use super::domain::{CheckedRow, Dataset, FieldType, Register, Value, datasets_of};
use crate::audit::{self, NewEntry};
use crate::store::{Db, StoreError, StoreResult, Tx, query};

/// Rows per INSERT statement (well under either database's limit on parameters).
const ROWS_PER_STATEMENT: usize = 400;

fn table(d: &Dataset) -> String {
    format!("data_{}", d.id)
}

/// Records the start of an import (before any row is loaded).
pub async fn start_import(
    db: &Db,
    id: String,
    register: Register,
    file_name: String,
    rows_total: u64,
    actor: String,
) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |tx| {
        query(
            "INSERT INTO data_imports (id, register, file_name, rows_total, rows_loaded, actor, started_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6)",
        )
        .bind(&id)
        .bind(register_name(register))
        .bind(&file_name)
        .bind(rows_total as i64)
        .bind(&actor)
        .bind(&now)
        .execute(&mut *tx)?;
        audit::store::append(
            tx,
            &now,
            NewEntry::new(
                format!("data_import:{id}"),
                &actor,
                "data.import.start",
                format!("data_import:{id}"),
                format!("{} register from {file_name}: {rows_total} rows", register_name(register)),
            ),
        )?;
        Ok(())
    })
    .await
}

fn register_name(r: Register) -> &'static str {
    match r {
        Register::Enterprises => "enterprises",
        Register::People => "people",
    }
}

/// Loads checked rows (rows `first_row` … of the file) into every dataset of the register, as
/// one transaction: each dataset's row is inserted or replaced, the import's count moves on, and
/// the audit log records the range.
pub async fn load_batch(
    db: &Db,
    import_id: String,
    register: Register,
    first_row: u64,
    rows: Vec<CheckedRow>,
    actor: String,
) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |tx| {
        // Claim first: the import must still be open; a lost claim rolls back the whole batch.
        let claimed = query(
            "UPDATE data_imports SET rows_loaded = rows_loaded + $1 WHERE id = $2 AND finished_at IS NULL",
        )
        .bind(rows.len() as i64)
        .bind(&import_id)
        .execute(&mut *tx)?;
        if claimed.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        for (i, d) in datasets_of(register).enumerate() {
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                upsert(tx, d, i, chunk, &import_id, &now)?;
            }
        }
        let last = first_row + rows.len() as u64 - 1;
        audit::store::append(
            tx,
            &now,
            NewEntry::new(
                format!("data_import:{import_id}"),
                &actor,
                "data.import.rows",
                format!("data_import:{import_id}"),
                format!("rows {first_row}–{last} loaded"),
            ),
        )?;
        Ok(())
    })
    .await
}

fn upsert(
    tx: &mut dyn Tx,
    d: &Dataset,
    index: usize,
    rows: &[CheckedRow],
    import_id: &str,
    now: &str,
) -> StoreResult<()> {
    let mut columns: Vec<&str> = d.fields.iter().map(|f| f.name).collect();
    columns.extend(["import_id", "updated_at"]);
    let per_row = columns.len();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", table(d), columns.join(", "));
    for r in 0..rows.len() {
        if r > 0 {
            sql.push_str(", ");
        }
        let placeholders: Vec<String> = (1..=per_row).map(|c| format!("${}", r * per_row + c)).collect();
        sql.push('(');
        sql.push_str(&placeholders.join(", "));
        sql.push(')');
    }
    let updates: Vec<String> = columns[1..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
    sql.push_str(&format!(" ON CONFLICT ({}) DO UPDATE SET {}", d.key, updates.join(", ")));
    let mut q = query(sql);
    for row in rows {
        for (f, v) in d.fields.iter().zip(&row.datasets[index]) {
            let text_kind = !matches!(f.kind, FieldType::Bool | FieldType::Int | FieldType::Yuan);
            q = match v {
                Value::Null if text_kind => q.bind(None::<String>),
                Value::Null => q.bind(None::<i64>),
                Value::Text(s) => q.bind(s.as_str()),
                Value::Bool(b) => q.bind(i64::from(*b)),
                Value::Int(n) | Value::Fen(n) => q.bind(*n),
                Value::Date(day) => q.bind(day.to_string()),
            };
        }
        q = q.bind(import_id).bind(now);
    }
    q.execute(tx)?;
    Ok(())
}

/// Marks an import finished.
pub async fn finish_import(db: &Db, id: String, actor: String) -> StoreResult<()> {
    let now = db.now_text();
    db.write(move |tx| {
        let done = query("UPDATE data_imports SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL")
            .bind(&now)
            .bind(&id)
            .execute(&mut *tx)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        audit::store::append(
            tx,
            &now,
            NewEntry::new(
                format!("data_import:{id}"),
                &actor,
                "data.import.finish",
                format!("data_import:{id}"),
                "import finished",
            ),
        )?;
        Ok(())
    })
    .await
}

/// How many records a dataset holds.
pub async fn count(db: &Db, d: &Dataset) -> StoreResult<i64> {
    Ok(query(format!("SELECT COUNT(*) AS n FROM {}", table(d))).read_one(db).await?.try_get("n")?)
}
