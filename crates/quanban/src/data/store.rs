//! The registers' datasets in the database: one table per dataset (`data_<id>`), loaded in
//! batches by register imports, each batch one transaction with its audit entry.

use chrono::NaiveDate;

use super::domain::{CheckedRow, Dataset, Field, FieldType, Register, Value, datasets_of};
use super::sharing::{DataRequest, Purpose, RequestStatus, RequestedField};
use crate::audit::{self, NewEntry};
use crate::platform::pii::Vault;
use crate::store::sql::Cells;
use crate::store::{Db, Row, StoreError, StoreResult, Tx, query};

/// Rows per INSERT statement (well under either database's limit on parameters).
const ROWS_PER_STATEMENT: usize = 400;

fn table(d: &Dataset) -> String {
    format!("data_{}", d.id)
}

/// The column a dataset is keyed by: its key field, or for people the keyed digest of the ID
/// number (the number itself is sealed and cannot be looked up).
fn key_column(d: &Dataset) -> &'static str {
    match d.register {
        Register::Enterprises => d.key,
        Register::People => "id_digest",
    }
}

/// The stored key of `key` in `d` (the digest for people).
pub fn stored_key(d: &Dataset, vault: &Vault, key: &str) -> String {
    match d.register {
        Register::Enterprises => key.to_string(),
        Register::People => vault.digest("id_number", key),
    }
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

/// Loads checked rows (the `first`th … in the import's key order) into every dataset of the
/// register, as one transaction: each dataset's row is inserted or replaced, the import's count
/// moves on, and the audit log records the range (never the keys: for people they are ID numbers).
pub async fn load_batch(
    db: &Db,
    import_id: String,
    register: Register,
    first: u64,
    rows: Vec<CheckedRow>,
    actor: String,
) -> StoreResult<()> {
    let now = db.now_text();
    let vault = db.vault()?.clone();
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
                upsert(tx, &vault, d, i, chunk, &import_id, &now)?;
            }
        }
        let last = first + rows.len() as u64 - 1;
        audit::store::append(
            tx,
            &now,
            NewEntry::new(
                format!("data_import:{import_id}"),
                &actor,
                "data.import.rows",
                format!("data_import:{import_id}"),
                format!("rows {first}–{last} in key order loaded"),
            ),
        )?;
        Ok(())
    })
    .await
}

fn upsert(
    tx: &mut dyn Tx,
    vault: &Vault,
    d: &Dataset,
    index: usize,
    rows: &[CheckedRow],
    import_id: &str,
    now: &str,
) -> StoreResult<()> {
    let people = d.register == Register::People;
    let mut columns: Vec<&str> = Vec::with_capacity(d.fields.len() + 3);
    if people {
        columns.push("id_digest");
    }
    columns.extend(d.fields.iter().map(|f| f.name));
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
    sql.push_str(&format!(" ON CONFLICT ({}) DO UPDATE SET {}", key_column(d), updates.join(", ")));
    let mut q = query(sql);
    for row in rows {
        if people {
            // The digest to look the person up by, and the number sealed.
            q = q
                .bind(vault.digest("id_number", &row.key))
                .bind(vault.seal(&row.key, "data_population.id_number"));
        }
        for (f, v) in d.fields.iter().zip(&row.datasets[index]) {
            if people && f.name == d.key {
                continue;
            }
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

// ---------------------------------------------------------------------------------------------
// Reading records (the exchange)
// ---------------------------------------------------------------------------------------------

/// Whether a field is stored as an integer (booleans 0/1, counts, fen).
fn stored_as_int(f: &Field) -> bool {
    matches!(f.kind, FieldType::Bool | FieldType::Int | FieldType::Yuan)
}

/// A stored value back as a checked value.
fn value_of(f: &Field, row: &Row, column: &str) -> StoreResult<Value> {
    Ok(if stored_as_int(f) {
        match row.try_get::<Option<i64>, _>(column)? {
            None => Value::Null,
            Some(n) => match f.kind {
                FieldType::Bool => Value::Bool(n != 0),
                FieldType::Yuan => Value::Fen(n),
                _ => Value::Int(n),
            },
        }
    } else {
        match row.try_get::<Option<String>, _>(column)? {
            None => Value::Null,
            Some(s) => match f.kind {
                FieldType::Date => {
                    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(Value::Date).unwrap_or(Value::Text(s))
                }
                _ => Value::Text(s),
            },
        }
    })
}

/// The `fields` of the record keyed `key` (as the caller gave it: a credit code, an ID number),
/// or None when the dataset has no such record.
pub async fn read_record(
    db: &Db,
    d: &Dataset,
    key: &str,
    fields: &[&Field],
) -> StoreResult<Option<Vec<Value>>> {
    let vault = db.vault()?;
    let columns: Vec<&str> = fields
        .iter()
        .map(|f| if d.register == Register::People && f.name == d.key { "id_number" } else { f.name })
        .collect();
    let sql = format!(
        "SELECT {} FROM {} WHERE {} = $1",
        if columns.is_empty() { "1 AS present".to_string() } else { columns.join(", ") },
        table(d),
        key_column(d)
    );
    let Some(row) = query(sql).bind(stored_key(d, vault, key)).read_optional(db).await? else {
        return Ok(None);
    };
    let mut out = Vec::with_capacity(fields.len());
    for (f, column) in fields.iter().zip(&columns) {
        if d.register == Register::People && f.name == d.key {
            // The key is what the reader already holds.
            out.push(Value::Text(key.to_string()));
        } else {
            out.push(value_of(f, &row, column)?);
        }
    }
    Ok(Some(out))
}

/// Whether `d` holds a record for the stored key `subject` (an access log subject without `p:`).
pub async fn has_record(db: &Db, d: &Dataset, stored: &str) -> StoreResult<bool> {
    let sql = format!("SELECT 1 AS present FROM {} WHERE {} = $1", table(d), key_column(d));
    Ok(query(sql).bind(stored).read_optional(db).await?.is_some())
}

/// The keys of a batch read, in one buffer (a million credit codes are 18 MB, not 18 MB plus a
/// million allocations).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Keys {
    text: String,
    ends: Vec<u32>,
}

impl Keys {
    fn push(&mut self, key: &str) {
        self.text.push_str(key);
        self.ends.push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th key (stored form: the credit code; the digest for people).
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

/// Which records have a value: one bit a record.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Presence {
    words: Vec<u64>,
    len: usize,
}

impl Presence {
    pub fn with_capacity(n: usize) -> Self {
        Presence { words: Vec::with_capacity(n.div_ceil(64)), len: 0 }
    }

    pub fn push(&mut self, present: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        if present {
            self.words[self.len / 64] |= 1 << (self.len % 64);
        }
        self.len += 1;
    }

    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One field of every record, compact: numbers as narrow as their type allows with a presence
/// bit, coded values with their dictionary, free text as strings. Reading 24 fields of 1.3 M
/// enterprises this way holds about 200 MB.
#[derive(Debug, PartialEq, Eq)]
pub enum Column {
    /// Amounts in fen.
    Money {
        fen: Vec<i64>,
        present: Presence,
    },
    /// Counts (the register holds them below 2³¹), booleans (0/1) and dates (days since
    /// 1970-01-01).
    Int {
        values: Vec<i32>,
        present: Presence,
    },
    /// Values from a closed list (enumerations, districts, industry codes): `codes[i]` indexes
    /// `dictionary`; `Column::NULL_CODE` is null.
    Code {
        codes: Vec<u16>,
        dictionary: Vec<String>,
    },
    Text(Vec<Option<String>>),
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

fn decode_error(what: String) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: String::new(), source: what.into() }
}

impl Column {
    pub const NULL_CODE: u16 = u16::MAX;

    fn for_field(f: &Field, capacity: usize) -> Column {
        match f.kind {
            FieldType::Yuan => Column::Money {
                fen: Vec::with_capacity(capacity),
                present: Presence::with_capacity(capacity),
            },
            FieldType::Bool | FieldType::Int | FieldType::Date => Column::Int {
                values: Vec::with_capacity(capacity),
                present: Presence::with_capacity(capacity),
            },
            FieldType::Enum(_)
            | FieldType::District
            | FieldType::IndustrySection
            | FieldType::IndustryDivision => {
                Column::Code { codes: Vec::with_capacity(capacity), dictionary: Vec::new() }
            }
            FieldType::Text | FieldType::CreditCode => Column::Text(Vec::with_capacity(capacity)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Column::Money { fen, .. } => fen.len(),
            Column::Int { values, .. } => values.len(),
            Column::Code { codes, .. } => codes.len(),
            Column::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Record `i`'s number (fen, count, 0/1, or days since 1970), `None` when null or not a number.
    pub fn number(&self, i: usize) -> Option<i64> {
        match self {
            Column::Money { fen, present } => present.get(i).then(|| fen[i]),
            Column::Int { values, present } => present.get(i).then(|| i64::from(values[i])),
            _ => None,
        }
    }

    /// Record `i`'s text (coded or free), `None` when null or not text.
    pub fn text(&self, i: usize) -> Option<&str> {
        match self {
            Column::Code { codes, dictionary } => {
                dictionary.get(usize::from(*codes.get(i)?)).map(String::as_str)
            }
            Column::Text(v) => v.get(i)?.as_deref(),
            _ => None,
        }
    }

    /// Appends the value of cell `i` of `row`.
    fn push(&mut self, kind: FieldType, row: &dyn Cells, i: usize) -> Result<(), sqlx::Error> {
        match self {
            Column::Money { fen, present } => {
                let v = row.int(i)?;
                fen.push(v.unwrap_or(0));
                present.push(v.is_some());
            }
            Column::Int { values, present } => {
                let v = if kind == FieldType::Date {
                    match row.str(i)? {
                        None => None,
                        Some(s) => {
                            let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                                .map_err(|e| decode_error(format!("stored date {s:?}: {e}")))?;
                            Some((day - epoch()).num_days())
                        }
                    }
                } else {
                    row.int(i)?
                };
                let narrow = v
                    .map(i32::try_from)
                    .transpose()
                    .map_err(|_| decode_error(format!("{v:?} is out of range")))?;
                values.push(narrow.unwrap_or(0));
                present.push(narrow.is_some());
            }
            Column::Code { codes, dictionary } => {
                let code = match row.str(i)? {
                    None => Column::NULL_CODE,
                    Some(s) => match dictionary.iter().position(|d| d == s) {
                        Some(at) => at as u16,
                        None if dictionary.len() < usize::from(Column::NULL_CODE) => {
                            dictionary.push(s.to_string());
                            (dictionary.len() - 1) as u16
                        }
                        None => return Err(decode_error("too many distinct coded values".into())),
                    },
                };
                codes.push(code);
            }
            Column::Text(v) => v.push(row.str(i)?.map(str::to_string)),
        }
        Ok(())
    }

    /// The column reordered to `order` (`order[i]` = the position in `self` of record `i`, or
    /// None when this dataset has no such record: null).
    fn reordered(self, order: &[Option<usize>]) -> Column {
        let presence = |present: &Presence| {
            let mut out = Presence::with_capacity(order.len());
            for o in order {
                out.push(o.is_some_and(|j| present.get(j)));
            }
            out
        };
        match self {
            Column::Money { fen, present } => Column::Money {
                fen: order.iter().map(|o| o.map_or(0, |j| fen[j])).collect(),
                present: presence(&present),
            },
            Column::Int { values, present } => Column::Int {
                values: order.iter().map(|o| o.map_or(0, |j| values[j])).collect(),
                present: presence(&present),
            },
            Column::Code { codes, dictionary } => Column::Code {
                codes: order.iter().map(|o| o.map_or(Column::NULL_CODE, |j| codes[j])).collect(),
                dictionary,
            },
            Column::Text(v) => Column::Text(order.iter().map(|o| o.and_then(|j| v[j].clone())).collect()),
        }
    }
}

/// Several datasets' fields for every record of the first, aligned record by record.
#[derive(Debug, Default)]
pub struct Columns {
    pub keys: Keys,
    /// (dataset, field, column), in the order asked.
    pub columns: Vec<(&'static str, &'static str, Column)>,
}

/// What one dataset's scan gives: its keys (in full for the first dataset), the digest of its
/// key sequence (two datasets with the same digest hold the same records in the same order, so
/// their columns line up as they are) and its columns.
struct Scan {
    keys: Option<Keys>,
    sequence: [u8; 32],
    columns: Vec<Column>,
}

/// Digests a sequence of keys (SHA-256 over each key and a separator): 32 bytes where a
/// fingerprint a record held 10 MB a dataset.
#[derive(Default)]
struct KeySequence(sha2::Sha256);

impl KeySequence {
    fn push(&mut self, key: &str) {
        use sha2::Digest;
        self.0.update(key.as_bytes());
        self.0.update([0]);
    }

    fn finish(self) -> [u8; 32] {
        use sha2::Digest;
        self.0.finalize().into()
    }
}

/// One dataset's fields in stored order, streaming (no row kept), into vectors sized once.
async fn scan(db: &Db, d: &'static Dataset, fields: &[&'static Field], full_keys: bool) -> StoreResult<Scan> {
    let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
    let key = key_column(d);
    // Stored order: the rowid on SQLite (a sequential scan; the key's order would be an index
    // walk with a lookup per record), the key on PostgreSQL (an index scan).
    let order = match db.backend() {
        crate::store::Backend::Sqlite => "rowid",
        crate::store::Backend::Postgres => key,
    };
    let records: i64 =
        query(format!("SELECT COUNT(*) AS n FROM {}", table(d))).read_one(db).await?.try_get("n")?;
    let capacity = usize::try_from(records).unwrap_or(0);
    let sql = format!(
        "SELECT {key}{}{} FROM {} ORDER BY {order}",
        if names.is_empty() { "" } else { ", " },
        names.join(", "),
        table(d)
    );
    let mut keys = full_keys
        .then(|| Keys { text: String::with_capacity(capacity * 18), ends: Vec::with_capacity(capacity) });
    let mut sequence = KeySequence::default();
    let mut columns: Vec<Column> = fields.iter().map(|f| Column::for_field(f, capacity)).collect();
    query(sql)
        .read_each(db, |row| {
            let k = row.str(0)?.unwrap_or_default();
            sequence.push(k);
            if let Some(keys) = &mut keys {
                keys.push(k);
            }
            for (i, (c, f)) in columns.iter_mut().zip(fields).enumerate() {
                c.push(f.kind, row, i + 1)?;
            }
            Ok(())
        })
        .await?;
    Ok(Scan { keys, sequence: sequence.finish(), columns })
}

/// A dataset's keys in stored order, in full (for aligning a dataset whose records differ).
async fn keys_of(db: &Db, d: &Dataset) -> StoreResult<Keys> {
    let key = key_column(d);
    let order = match db.backend() {
        crate::store::Backend::Sqlite => "rowid",
        crate::store::Backend::Postgres => key,
    };
    let mut keys = Keys::default();
    query(format!("SELECT {key} FROM {} ORDER BY {order}", table(d)))
        .read_each(db, |row| {
            keys.push(row.str(0)?.unwrap_or_default());
            Ok(())
        })
        .await?;
    Ok(keys)
}

/// Reads `fields` of each dataset of `wanted` into memory, column by column, aligned on the
/// records of the first dataset (the others' records that it lacks are left out; its records
/// that another lacks are null there). The datasets are scanned in parallel. Datasets loaded from
/// one register file share the stored order, so alignment is usually a comparison of key
/// sequence digests; otherwise the dataset's keys are read again and placed through a map.
pub async fn read_columns(
    db: &Db,
    wanted: &[(&'static Dataset, Vec<&'static Field>)],
) -> StoreResult<Columns> {
    let mut scans = Vec::with_capacity(wanted.len());
    for (n, (d, fields)) in wanted.iter().enumerate() {
        let fields: Vec<&'static Field> = fields.iter().copied().filter(|f| f.name != d.key).collect();
        let (db, d) = (db.clone(), *d);
        scans.push(tokio::spawn(async move { scan(&db, d, &fields, n == 0).await.map(|s| (fields, s)) }));
    }
    let mut out = Columns::default();
    let mut base = [0u8; 32];
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for ((d, _), task) in wanted.iter().zip(scans) {
        let (fields, scan) =
            task.await.map_err(|e| StoreError::Invalid(format!("batch read task: {e}")))??;
        let columns = match scan.keys {
            Some(keys) => {
                out.keys = keys;
                base = scan.sequence;
                scan.columns
            }
            None => {
                if base == scan.sequence {
                    scan.columns
                } else {
                    if index.is_empty() {
                        index = (0..out.keys.len()).map(|i| (out.keys.get(i).to_string(), i)).collect();
                    }
                    let keys = keys_of(db, d).await?;
                    let mut order = vec![None; out.keys.len()];
                    for j in 0..keys.len() {
                        if let Some(&i) = index.get(keys.get(j)) {
                            order[i] = Some(j);
                        }
                    }
                    scan.columns.into_iter().map(|c| c.reordered(&order)).collect()
                }
            }
        };
        for (f, c) in fields.iter().zip(columns) {
            out.columns.push((d.id, f.name, c));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Requests and grants
// ---------------------------------------------------------------------------------------------

fn parse_day(s: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Invalid(format!("stored date {s:?}: {e}")))
}

fn request_from(r: &Row) -> StoreResult<DataRequest> {
    let invalid = |what: &str, v: &str| StoreError::Invalid(format!("data request {what} {v:?}"));
    let purpose: String = r.try_get("purpose")?;
    let status: String = r.try_get("status")?;
    let items: String = r.try_get("items")?;
    let fields: String = r.try_get("fields")?;
    let expires: Option<String> = r.try_get("expires_on")?;
    Ok(DataRequest {
        id: r.try_get("id")?,
        requester: r.try_get("requester")?,
        owner: r.try_get("owner")?,
        dataset: r.try_get("dataset")?,
        purpose: Purpose::parse(&purpose).ok_or_else(|| invalid("purpose", &purpose))?,
        purpose_detail: r.try_get("purpose_detail")?,
        legal_basis: r.try_get("legal_basis")?,
        items: serde_json::from_str(&items).map_err(|_| invalid("items", &items))?,
        fields: serde_json::from_str::<Vec<RequestedField>>(&fields)
            .map_err(|_| invalid("fields", &fields))?,
        months: u32::try_from(r.try_get::<i64, _>("months")?).unwrap_or(0),
        status: RequestStatus::parse(&status).ok_or_else(|| invalid("status", &status))?,
        requested_by: r.try_get("requested_by")?,
        requested_at: r.try_get("requested_at")?,
        due_on: parse_day(&r.try_get::<String, _>("due_on")?)?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        expires_on: expires.as_deref().map(parse_day).transpose()?,
        closed_by: r.try_get("closed_by")?,
        closed_at: r.try_get("closed_at")?,
        close_reason: r.try_get("close_reason")?,
        version: r.try_get("version")?,
    })
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Stores a new request (status pending, version 1) with its audit entry.
pub async fn insert_request(db: &Db, r: DataRequest) -> StoreResult<()> {
    let now = r.requested_at.clone();
    db.write(move |tx| {
        query(
            "INSERT INTO data_requests (id, requester, owner, dataset, purpose, purpose_detail, legal_basis, items, \
             fields, months, status, requested_by, requested_at, due_on, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&r.id)
        .bind(&r.requester)
        .bind(&r.owner)
        .bind(&r.dataset)
        .bind(r.purpose.as_str())
        .bind(&r.purpose_detail)
        .bind(&r.legal_basis)
        .bind(json(&r.items))
        .bind(json(&r.fields))
        .bind(i64::from(r.months))
        .bind(r.status.as_str())
        .bind(&r.requested_by)
        .bind(&r.requested_at)
        .bind(r.due_on.to_string())
        .bind(r.version)
        .execute(&mut *tx)?;
        let fields: Vec<&str> = r.fields.iter().map(|f| f.field.as_str()).collect();
        audit::store::append(
            tx,
            &now,
            NewEntry::new(
                format!("data_request:{}", r.id),
                format!("user:{}", r.requested_by),
                "data.request.create",
                format!("data_request:{}", r.id),
                format!(
                    "{} asks {} for {}.{} ({})",
                    r.requester,
                    r.owner,
                    r.dataset,
                    fields.join(","),
                    r.purpose.as_str()
                ),
            ),
        )?;
        Ok(())
    })
    .await
}

/// Saves a request as a step left it: claims the version read first (a lost claim changes
/// nothing), then writes the audit entry naming the step.
pub async fn save_request(
    db: &Db,
    before_version: i64,
    after: DataRequest,
    actor: String,
    step: &'static str,
) -> StoreResult<()> {
    db.write(move |tx| {
        let done = query(
            "UPDATE data_requests SET fields = $1, status = $2, decided_by = $3, decided_at = $4, expires_on = $5, \
             closed_by = $6, closed_at = $7, close_reason = $8, version = $9 WHERE id = $10 AND version = $11",
        )
        .bind(json(&after.fields))
        .bind(after.status.as_str())
        .bind(&after.decided_by)
        .bind(&after.decided_at)
        .bind(after.expires_on.map(|d| d.to_string()))
        .bind(&after.closed_by)
        .bind(&after.closed_at)
        .bind(&after.close_reason)
        .bind(after.version)
        .bind(&after.id)
        .bind(before_version)
        .execute(&mut *tx)?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        let approved: Vec<&str> = after
            .fields
            .iter()
            .filter(|f| f.decision == super::sharing::FieldDecision::Approved)
            .map(|f| f.field.as_str())
            .collect();
        let at = after.closed_at.clone().or(after.decided_at.clone()).unwrap_or_default();
        audit::store::append(
            tx,
            &at,
            NewEntry::new(
                format!("data_request:{}", after.id),
                actor,
                format!("data.request.{step}"),
                format!("data_request:{}", after.id),
                format!(
                    "{}; approved fields: {}; expires {}",
                    after.status.as_str(),
                    if approved.is_empty() { "none".to_string() } else { approved.join(",") },
                    after.expires_on.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
                ),
            ),
        )?;
        Ok(())
    })
    .await
}

const REQUEST_COLUMNS: &str = "id, requester, owner, dataset, purpose, purpose_detail, legal_basis, items, fields, \
     months, status, requested_by, requested_at, due_on, decided_by, decided_at, expires_on, closed_by, closed_at, \
     close_reason, version";

pub async fn get_request(db: &Db, id: &str) -> StoreResult<Option<DataRequest>> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM data_requests WHERE id = $1");
    query(sql).bind(id).read_optional(db).await?.as_ref().map(request_from).transpose()
}

/// Requests made by or to `department` (every request when None), newest first.
pub async fn list_requests(db: &Db, department: Option<&str>) -> StoreResult<Vec<DataRequest>> {
    let rows = match department {
        Some(d) => {
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM data_requests WHERE requester = $1 OR owner = $1 \
                 ORDER BY requested_at DESC, id LIMIT 500"
            );
            query(sql).bind(d).read_all(db).await?
        }
        None => {
            let sql = format!(
                "SELECT {REQUEST_COLUMNS} FROM data_requests ORDER BY requested_at DESC, id LIMIT 500"
            );
            query(sql).read_all(db).await?
        }
    };
    rows.iter().map(request_from).collect()
}

/// The decided requests of `department` for `dataset` (what a read is checked against).
pub async fn decided_requests(db: &Db, department: &str, dataset: &str) -> StoreResult<Vec<DataRequest>> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM data_requests WHERE requester = $1 AND dataset = $2 \
         AND status IN ('granted', 'revoked') ORDER BY requested_at DESC"
    );
    query(sql).bind(department).bind(dataset).read_all(db).await?.iter().map(request_from).collect()
}

// ---------------------------------------------------------------------------------------------
// The access log
// ---------------------------------------------------------------------------------------------

pub use super::domain::Access;

/// Logs `access` in the caller's transaction: the log row and, for a single record, an entry of
/// the subject's audit stream (`data_access:<subject>`), so a subject's reads form one chain.
pub fn log_access(tx: &mut dyn Tx, access: &Access) -> StoreResult<()> {
    query(
        "INSERT INTO data_access_log (id, at, department, actor, actor_name, dataset, subject, fields, purpose, \
         case_number, policy, grants, criteria, records) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&access.id)
    .bind(&access.at)
    .bind(&access.department)
    .bind(&access.actor)
    .bind(&access.actor_name)
    .bind(&access.dataset)
    .bind(&access.subject)
    .bind(access.fields.join(","))
    .bind(&access.purpose)
    .bind(&access.case_number)
    .bind(&access.policy)
    .bind(access.grants.join(","))
    .bind(&access.criteria)
    .bind(access.records)
    .execute(&mut *tx)?;
    let stream = match &access.subject {
        Some(s) => format!("data_access:{s}"),
        None => format!("data_batch:{}", access.dataset),
    };
    audit::store::append(
        tx,
        &access.at,
        NewEntry::new(
            stream,
            &access.actor,
            if access.subject.is_some() { "data.exchange.read" } else { "data.exchange.batch" },
            format!("data_access:{}", access.id),
            format!(
                "{} read {}.{} for {}{}{}",
                access.department,
                access.dataset,
                access.fields.join(","),
                access.purpose,
                access.case_number.as_deref().map(|c| format!(", case {c}")).unwrap_or_default(),
                access
                    .criteria
                    .as_deref()
                    .map(|c| format!(", {c}: {} records", access.records))
                    .unwrap_or_default(),
            ),
        ),
    )?;
    Ok(())
}

/// Logs one access as its own write.
pub async fn record_access(db: &Db, access: Access) -> StoreResult<()> {
    db.write(move |tx| log_access(tx, &access)).await
}

fn access_from(r: &Row) -> StoreResult<Access> {
    let list =
        |s: String| -> Vec<String> { s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect() };
    Ok(Access {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        department: r.try_get("department")?,
        actor: r.try_get("actor")?,
        actor_name: r.try_get("actor_name")?,
        dataset: r.try_get("dataset")?,
        subject: r.try_get("subject")?,
        fields: list(r.try_get("fields")?),
        purpose: r.try_get("purpose")?,
        case_number: r.try_get("case_number")?,
        policy: r.try_get("policy")?,
        grants: list(r.try_get("grants")?),
        criteria: r.try_get("criteria")?,
        records: r.try_get("records")?,
    })
}

const ACCESS_COLUMNS: &str = "id, at, department, actor, actor_name, dataset, subject, fields, purpose, case_number, policy, grants, criteria, records";

/// Every read of `subject`'s records, and every batch read of the datasets in `batch_datasets`
/// (the datasets that hold a record of theirs), newest first.
pub async fn accesses_of(db: &Db, subject: &str, batch_datasets: &[&str]) -> StoreResult<Vec<Access>> {
    let mut out: Vec<Access> = query(format!(
        "SELECT {ACCESS_COLUMNS} FROM data_access_log WHERE subject = $1 ORDER BY at DESC, id LIMIT 1000"
    ))
    .bind(subject)
    .read_all(db)
    .await?
    .iter()
    .map(access_from)
    .collect::<StoreResult<_>>()?;
    for d in batch_datasets {
        let rows = query(format!(
            "SELECT {ACCESS_COLUMNS} FROM data_access_log WHERE subject IS NULL AND dataset = $1 ORDER BY at DESC, id LIMIT 200"
        ))
        .bind(*d)
        .read_all(db)
        .await?;
        for r in &rows {
            out.push(access_from(r)?);
        }
    }
    out.sort_by(|a, b| b.at.cmp(&a.at).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// The reads by `department` (every department's when None), newest first.
pub async fn accesses_by(db: &Db, department: Option<&str>, limit: i64) -> StoreResult<Vec<Access>> {
    let rows = match department {
        Some(d) => query(format!(
            "SELECT {ACCESS_COLUMNS} FROM data_access_log WHERE department = $1 ORDER BY at DESC, id LIMIT $2"
        ))
        .bind(d)
        .bind(limit)
        .read_all(db)
        .await?,
        None => {
            query(format!("SELECT {ACCESS_COLUMNS} FROM data_access_log ORDER BY at DESC, id LIMIT $1"))
                .bind(limit)
                .read_all(db)
                .await?
        }
    };
    rows.iter().map(access_from).collect()
}
