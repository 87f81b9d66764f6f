//! SQL written once for both databases, run synchronously inside a write and asynchronously on
//! the read pool.
//!
//! A write body is plain synchronous code over [`Tx`]: no `.await` inside a transaction, so a
//! body never yields while it holds the write lock. On SQLite the bodies run on the writer thread
//! that owns a `rusqlite` connection ([`super::writer`]): every statement is a direct call into
//! SQLite with its prepared statement cached, where sqlx sent each one to a worker thread and
//! woke the writer again for the answer. On PostgreSQL a body runs on one of the writer threads,
//! each with its own connection and runtime ([`BlockingTx`], `pg_writers`).
//!
//! Statements use `$1`, `$2`… placeholders, which both databases accept. Rows come back as
//! [`Row`], one type for reads and writes on both databases, decoded by [`FromValue`]: a stored
//! value of the wrong type is an error naming the column, never a silent default.

use std::borrow::Cow;
use std::sync::Arc;

use sqlx::any::{AnyRow, AnyTypeInfoKind};
use sqlx::{AnyConnection, Column, Row as _};

use super::Backend;

/// The type of a value, kept with a NULL so that PostgreSQL is told what the NULL stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Int,
    Real,
    Text,
    Blob,
}

/// One bound parameter or one column of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null(Kind),
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// What may be bound to a placeholder.
pub trait Bind {
    /// The kind a `NULL` of this type is sent as.
    fn kind() -> Kind
    where
        Self: Sized;
    fn into_value(self) -> Value;
}

macro_rules! bind_as {
    ($kind:ident, $variant:ident, $($t:ty => $conv:expr),+ $(,)?) => {$(
        impl Bind for $t {
            fn kind() -> Kind {
                Kind::$kind
            }
            fn into_value(self) -> Value {
                #[allow(clippy::redundant_closure_call)]
                Value::$variant(($conv)(self))
            }
        }
    )+};
}

bind_as!(Bool, Bool, bool => |v| v);
bind_as!(Int, Int, i64 => |v| v, i32 => i64::from, i16 => i64::from, u32 => i64::from, u16 => i64::from, u8 => i64::from);
bind_as!(Real, Real, f64 => |v| v, f32 => f64::from);
bind_as!(Text, Text, String => |v| v, &str => str::to_string);
bind_as!(Blob, Blob, Vec<u8> => |v| v, &[u8] => <[u8]>::to_vec);

impl<T: Bind> Bind for Option<T> {
    fn kind() -> Kind {
        T::kind()
    }
    fn into_value(self) -> Value {
        match self {
            Some(v) => v.into_value(),
            None => Value::Null(T::kind()),
        }
    }
}

impl<T: Bind + Clone> Bind for &T {
    fn kind() -> Kind {
        T::kind()
    }
    fn into_value(self) -> Value {
        self.clone().into_value()
    }
}

/// What a column may be read as.
pub trait FromValue: Sized {
    fn from_value(value: &Value) -> Result<Self, String>;
}

fn mismatch<T>(value: &Value, wanted: &str) -> Result<T, String> {
    Err(format!("expected {wanted}, found {value:?}"))
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => mismatch(other, "text"),
        }
    }
}

impl FromValue for i64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(v) => Ok(*v),
            Value::Bool(b) => Ok(i64::from(*b)),
            other => mismatch(other, "an integer"),
        }
    }
}

impl FromValue for i32 {
    fn from_value(value: &Value) -> Result<Self, String> {
        let wide = i64::from_value(value)?;
        i32::try_from(wide).map_err(|_| format!("{wide} does not fit a 32-bit integer"))
    }
}

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(*b),
            Value::Int(v) => Ok(*v != 0),
            other => mismatch(other, "a boolean"),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Real(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            other => mismatch(other, "a number"),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => mismatch(other, "bytes"),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null(_) => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// A column by name or by position.
pub trait ColumnIndex {
    fn position(&self, columns: &[String]) -> Option<usize>;
    fn describe(&self) -> String;
}

impl ColumnIndex for &str {
    fn position(&self, columns: &[String]) -> Option<usize> {
        columns.iter().position(|c| c == self)
    }
    fn describe(&self) -> String {
        (*self).to_string()
    }
}

impl ColumnIndex for usize {
    fn position(&self, columns: &[String]) -> Option<usize> {
        (*self < columns.len()).then_some(*self)
    }
    fn describe(&self) -> String {
        self.to_string()
    }
}

/// One row of a result.
#[derive(Clone, Debug)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

/// A row's cells by position, borrowed: a batch read's fast path (no name lookup, and on SQLite
/// no copy of the row).
pub trait Cells {
    /// Cell `i` as optional text.
    fn str(&self, i: usize) -> Result<Option<&str>, sqlx::Error>;
    /// Cell `i` as an optional integer (booleans as 0/1).
    fn int(&self, i: usize) -> Result<Option<i64>, sqlx::Error>;
}

fn not_a(kind: &str, i: usize) -> sqlx::Error {
    sqlx::Error::ColumnDecode { index: i.to_string(), source: format!("not {kind}").into() }
}

impl Cells for Row {
    fn str(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        match self.values.get(i) {
            Some(Value::Null(_)) => Ok(None),
            Some(Value::Text(s)) => Ok(Some(s)),
            _ => Err(not_a("text", i)),
        }
    }

    fn int(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        match self.values.get(i) {
            Some(Value::Null(_)) => Ok(None),
            Some(Value::Int(n)) => Ok(Some(*n)),
            Some(Value::Bool(b)) => Ok(Some(i64::from(*b))),
            _ => Err(not_a("an integer", i)),
        }
    }
}

impl Cells for rusqlite::Row<'_> {
    fn str(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        use rusqlite::types::ValueRef;
        match self.get_ref(i).map_err(sqlite_error)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(t) => std::str::from_utf8(t).map(Some).map_err(|_| not_a("UTF-8 text", i)),
            _ => Err(not_a("text", i)),
        }
    }

    fn int(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        use rusqlite::types::ValueRef;
        match self.get_ref(i).map_err(sqlite_error)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(n) => Ok(Some(n)),
            _ => Err(not_a("an integer", i)),
        }
    }
}

impl Row {
    /// The column `index` read as `T`; an error naming the column if it is absent or of
    /// another type.
    pub fn try_get<T: FromValue, I: ColumnIndex>(&self, index: I) -> Result<T, sqlx::Error> {
        let at =
            index.position(&self.columns).ok_or_else(|| sqlx::Error::ColumnNotFound(index.describe()))?;
        T::from_value(&self.values[at])
            .map_err(|e| sqlx::Error::ColumnDecode { index: index.describe(), source: e.into() })
    }

    fn from_any(row: &AnyRow, columns: &Arc<[String]>) -> Result<Row, sqlx::Error> {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..row.columns().len() {
            // The value's own type, not the column's: an expression column has no declared type.
            let raw = row.try_get_raw(i)?;
            let kind = if sqlx::ValueRef::is_null(&raw) {
                AnyTypeInfoKind::Null
            } else {
                sqlx::ValueRef::type_info(&raw).kind()
            };
            let value = match kind {
                AnyTypeInfoKind::Null => Value::Null(Kind::Text),
                AnyTypeInfoKind::Bool => Value::Bool(row.try_get(i)?),
                AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
                    Value::Int(row.try_get(i)?)
                }
                AnyTypeInfoKind::Real => Value::Real(f64::from(row.try_get::<f32, _>(i)?)),
                AnyTypeInfoKind::Double => Value::Real(row.try_get(i)?),
                AnyTypeInfoKind::Text => Value::Text(row.try_get(i)?),
                AnyTypeInfoKind::Blob => Value::Blob(row.try_get(i)?),
            };
            values.push(value);
        }
        Ok(Row { columns: columns.clone(), values })
    }
}

fn any_columns(row: &AnyRow) -> Arc<[String]> {
    row.columns().iter().map(|c| c.name().to_string()).collect()
}

fn rows_from_any(rows: &[AnyRow]) -> Result<Vec<Row>, sqlx::Error> {
    let Some(first) = rows.first() else { return Ok(Vec::new()) };
    let columns = any_columns(first);
    rows.iter().map(|r| Row::from_any(r, &columns)).collect()
}

/// What a statement changed.
#[derive(Clone, Copy, Debug)]
pub struct Done {
    rows: u64,
}

impl Done {
    pub fn rows_affected(&self) -> u64 {
        self.rows
    }
}

/// A statement with its parameters, built with [`query`] and [`Query::bind`].
#[derive(Clone, Debug)]
pub struct Query {
    sql: Cow<'static, str>,
    args: Vec<Value>,
}

/// Starts a statement. Dynamic SQL (a `String`) is for statements built from closed lists of
/// column names and placeholders, never from user input: values always go through `bind`.
pub fn query(sql: impl Into<Cow<'static, str>>) -> Query {
    Query { sql: sql.into(), args: Vec::new() }
}

impl Query {
    pub fn bind(mut self, value: impl Bind) -> Query {
        self.args.push(value.into_value());
        self
    }

    /// Binds a value already made (rows built column by column, as generators do).
    pub fn bind_value(mut self, value: Value) -> Query {
        self.args.push(value);
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    pub fn args(&self) -> &[Value] {
        &self.args
    }

    // Inside a write body.

    pub fn execute(self, tx: &mut dyn Tx) -> Result<Done, sqlx::Error> {
        tx.execute(&self)
    }

    pub fn fetch_all(self, tx: &mut dyn Tx) -> Result<Vec<Row>, sqlx::Error> {
        tx.fetch(&self)
    }

    pub fn fetch_optional(self, tx: &mut dyn Tx) -> Result<Option<Row>, sqlx::Error> {
        Ok(tx.fetch(&self)?.into_iter().next())
    }

    pub fn fetch_one(self, tx: &mut dyn Tx) -> Result<Row, sqlx::Error> {
        self.fetch_optional(tx)?.ok_or(sqlx::Error::RowNotFound)
    }

    // On the read pool.

    fn to_sqlx(&self) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        let mut q = match &self.sql {
            Cow::Borrowed(s) => sqlx::query(*s),
            Cow::Owned(s) => sqlx::query(sqlx::AssertSqlSafe(s.clone())),
        };
        for value in &self.args {
            q = match value {
                Value::Null(Kind::Bool) => q.bind(None::<bool>),
                Value::Null(Kind::Int) => q.bind(None::<i64>),
                Value::Null(Kind::Real) => q.bind(None::<f64>),
                Value::Null(Kind::Text) => q.bind(None::<String>),
                Value::Null(Kind::Blob) => q.bind(None::<Vec<u8>>),
                Value::Bool(b) => q.bind(*b),
                Value::Int(i) => q.bind(*i),
                Value::Real(r) => q.bind(*r),
                Value::Text(s) => q.bind(s.clone()),
                Value::Blob(b) => q.bind(b.clone()),
            };
        }
        q
    }

    /// Runs the statement on the read side: on SQLite directly on a reader connection of this
    /// thread's (see [`SqliteReaders`]), on PostgreSQL on the pool.
    pub async fn read_all(self, db: &super::Db) -> Result<Vec<Row>, sqlx::Error> {
        match db.sqlite_readers() {
            Some(readers) => readers.run(|tx| tx.fetch(&self)),
            None => rows_from_any(&self.to_sqlx().fetch_all(db.reader()).await?),
        }
    }

    /// Runs the statement on the read side and hands each row's cells to `each` as it comes,
    /// keeping none: for reads of a whole table into the caller's own (columnar) form. On
    /// SQLite the cells are SQLite's own, not copied.
    pub async fn read_each(
        self,
        db: &super::Db,
        mut each: impl FnMut(&dyn Cells) -> Result<(), sqlx::Error>,
    ) -> Result<(), sqlx::Error> {
        match db.sqlite_readers() {
            Some(readers) => readers.run(|tx| {
                let mut failed = None;
                tx.run(&self, |row, _| {
                    if failed.is_some() {
                        return;
                    }
                    if let Err(e) = each(row) {
                        failed = Some(e);
                    }
                })
                .map_err(sqlite_error)?;
                failed.map_or(Ok(()), Err)
            }),
            None => {
                use futures::TryStreamExt;
                let q = self.to_sqlx();
                let mut rows = q.fetch(db.reader());
                let mut columns: Option<Arc<[String]>> = None;
                while let Some(r) = rows.try_next().await? {
                    let cols = columns.get_or_insert_with(|| any_columns(&r));
                    each(&Row::from_any(&r, cols)?)?;
                }
                Ok(())
            }
        }
    }

    pub async fn read_optional(self, db: &super::Db) -> Result<Option<Row>, sqlx::Error> {
        Ok(self.read_all(db).await?.into_iter().next())
    }

    pub async fn read_one(self, db: &super::Db) -> Result<Row, sqlx::Error> {
        self.read_optional(db).await?.ok_or(sqlx::Error::RowNotFound)
    }
}

/// SQLite reader connections, used in place by the task that reads.
///
/// A read in WAL mode is a few microseconds of work in SQLite; sending it to a pool's worker
/// thread and waking the task again for the answer cost more than the read (measured with
/// `perf` under `quanban bench lifecycle`). So a read runs on the thread that asks, on an idle
/// connection taken from this list (opened on demand) and put back after. A long read (an
/// audit verification over the whole log) holds its thread for as long as it takes; the
/// platform's pages and API read by key or by index range.
pub struct SqliteReaders {
    path: std::path::PathBuf,
    idle: std::sync::Mutex<Vec<rusqlite::Connection>>,
}

/// How many idle reader connections are kept (more are opened when more threads read at once).
const IDLE_READERS: usize = 8;

impl SqliteReaders {
    pub fn new(path: &std::path::Path) -> SqliteReaders {
        SqliteReaders { path: path.to_path_buf(), idle: std::sync::Mutex::new(Vec::new()) }
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        let conn = rusqlite::Connection::open(&self.path)?;
        conn.execute_batch(
            "PRAGMA query_only = ON; PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY;",
        )?;
        conn.set_prepared_statement_cache_capacity(256);
        Ok(conn)
    }

    fn run<T>(
        &self,
        read: impl FnOnce(&mut SqliteTx<'_>) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        let taken = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match taken {
            Some(conn) => conn,
            None => self.open().map_err(sqlite_error)?,
        };
        let out = read(&mut SqliteTx { conn: &conn });
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
        out
    }
}

/// The open transaction a write body runs in.
pub trait Tx {
    fn backend(&self) -> Backend;
    /// Runs a statement that returns no rows the caller wants (rows it returns are dropped).
    fn execute(&mut self, q: &Query) -> Result<Done, sqlx::Error>;
    /// Runs a statement and returns its rows.
    fn fetch(&mut self, q: &Query) -> Result<Vec<Row>, sqlx::Error>;
}

// ---------------------------------------------------------------------------------------------
// SQLite: a rusqlite connection owned by the writer thread
// ---------------------------------------------------------------------------------------------

/// The writer thread's connection inside its open transaction.
pub struct SqliteTx<'c> {
    pub(super) conn: &'c rusqlite::Connection,
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null(_) => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(r) => ToSqlOutput::Borrowed(ValueRef::Real(*r)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

impl SqliteTx<'_> {
    /// Prepares (from the cache) and binds `q`. `$N` names the N-th argument wherever it
    /// appears, as sqlx and PostgreSQL read it (SQLite itself would number `$N` by first use).
    fn run(
        &self,
        q: &Query,
        mut each_row: impl FnMut(&rusqlite::Row<'_>, &Arc<[String]>),
    ) -> rusqlite::Result<u64> {
        let mut stmt = self.conn.prepare_cached(&q.sql)?;
        let count = stmt.parameter_count();
        // SQLite's parameter i is the i-th distinct name in order of first use. Reading the names
        // from the text is linear; asking SQLite for each name is a scan of its list per call,
        // quadratic in a multi-row INSERT (a 10,000-parameter statement spent 74 % of an import
        // in `sqlite3_bind_parameter_name`).
        let order = placeholder_order(&q.sql);
        let argument = |position: usize| {
            q.args
                .get(position.wrapping_sub(1))
                .ok_or(rusqlite::Error::InvalidParameterCount(position, q.args.len()))
        };
        if order.len() == count {
            for (i, position) in order.into_iter().enumerate() {
                stmt.raw_bind_parameter(i + 1, argument(position)?)?;
            }
        } else {
            for i in 1..=count {
                let position = stmt
                    .parameter_name(i)
                    .and_then(|n| n.strip_prefix('$').or_else(|| n.strip_prefix('?')))
                    .and_then(|n| n.parse::<usize>().ok())
                    .unwrap_or(i);
                stmt.raw_bind_parameter(i, argument(position)?)?;
            }
        }
        let columns: Arc<[String]> = if stmt.column_count() > 0 {
            stmt.column_names().into_iter().map(str::to_string).collect()
        } else {
            Arc::from(Vec::new())
        };
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            each_row(row, &columns);
        }
        drop(rows);
        Ok(self.conn.changes())
    }
}

/// The `$N` placeholders of `sql` (outside quoted strings and identifiers), distinct, in order of
/// first use: SQLite's parameter numbering.
fn placeholder_order(sql: &str) -> Vec<usize> {
    let bytes = sql.as_bytes();
    let mut seen: Vec<bool> = Vec::new();
    let mut order = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
                i += 1;
            }
            b'$' => {
                let mut n = 0usize;
                let mut end = i + 1;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    n = n.saturating_mul(10).saturating_add(usize::from(bytes[end] - b'0'));
                    end += 1;
                }
                if end > i + 1 && n > 0 && n <= 1 << 20 {
                    if seen.len() <= n {
                        seen.resize(n + 1, false);
                    }
                    if !seen[n] {
                        seen[n] = true;
                        order.push(n);
                    }
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    order
}

fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null(Kind::Text),
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl Tx for SqliteTx<'_> {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn execute(&mut self, q: &Query) -> Result<Done, sqlx::Error> {
        let rows = self.run(q, |_, _| {}).map_err(sqlite_error)?;
        Ok(Done { rows })
    }

    fn fetch(&mut self, q: &Query) -> Result<Vec<Row>, sqlx::Error> {
        let mut out = Vec::new();
        self.run(q, |row, columns| {
            let values = (0..columns.len())
                .map(|i| row.get_ref(i).map(sqlite_value).unwrap_or(Value::Null(Kind::Text)))
                .collect();
            out.push(Row { columns: columns.clone(), values });
        })
        .map_err(sqlite_error)?;
        Ok(out)
    }
}

/// A SQLite error as the rest of the store sees database errors (so that
/// [`super::StoreError::unique_as`] and friends work the same on both engines).
#[derive(Debug)]
pub struct SqliteError {
    message: String,
    code: i32,
}

impl std::fmt::Display for SqliteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.code, self.message)
    }
}

impl std::error::Error for SqliteError {}

impl sqlx::error::DatabaseError for SqliteError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.code.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use sqlx::error::ErrorKind;
        match self.code {
            2067 | 1555 => ErrorKind::UniqueViolation,
            787 => ErrorKind::ForeignKeyViolation,
            1299 => ErrorKind::NotNullViolation,
            275 => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

pub(super) fn sqlite_error(err: rusqlite::Error) -> sqlx::Error {
    match err {
        rusqlite::Error::SqliteFailure(e, message) => sqlx::Error::Database(Box::new(SqliteError {
            message: message.unwrap_or_else(|| e.to_string()),
            code: e.extended_code,
        })),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL (and tools on any sqlx connection): the body on a blocking thread
// ---------------------------------------------------------------------------------------------

/// An sqlx connection inside its transaction, driven from the thread that owns it: the body is
/// synchronous code, and each statement waits for its answer on the connection's own
/// single-threaded runtime (see `pg_writers`).
pub struct BlockingTx<'c> {
    pub(super) conn: &'c mut AnyConnection,
    pub(super) runtime: &'c tokio::runtime::Runtime,
    pub(super) backend: Backend,
}

impl Tx for BlockingTx<'_> {
    fn backend(&self) -> Backend {
        self.backend
    }

    fn execute(&mut self, q: &Query) -> Result<Done, sqlx::Error> {
        let done = self.runtime.block_on(q.to_sqlx().execute(&mut *self.conn))?;
        Ok(Done { rows: done.rows_affected() })
    }

    fn fetch(&mut self, q: &Query) -> Result<Vec<Row>, sqlx::Error> {
        let rows = self.runtime.block_on(q.to_sqlx().fetch_all(&mut *self.conn))?;
        rows_from_any(&rows)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn open() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, score REAL, flag INTEGER)",
        )
        .unwrap();
        conn
    }

    #[test]
    fn placeholders_are_numbered_like_postgres() {
        let conn = open();
        let mut tx = SqliteTx { conn: &conn };
        // `$2` before `$1`: SQLite alone would give the first-used name index 1.
        query("INSERT INTO t (name, id) VALUES ($2, $1)").bind(7_i64).bind("seven").execute(&mut tx).unwrap();
        let row = query("SELECT id, name, score, flag FROM t WHERE name = $1")
            .bind("seven")
            .fetch_one(&mut tx)
            .unwrap();
        assert_eq!(row.try_get::<i64, _>("id").unwrap(), 7);
        assert_eq!(row.try_get::<String, _>(1).unwrap(), "seven");
        assert_eq!(row.try_get::<Option<f64>, _>("score").unwrap(), None);
    }

    #[test]
    fn placeholders_are_read_in_order_of_first_use_outside_strings() {
        assert_eq!(placeholder_order("SELECT $2, $1, $2, '$9', \"$8\" FROM t WHERE a = $3"), vec![2, 1, 3]);
        assert_eq!(placeholder_order("SELECT 1"), Vec::<usize>::new());
        let many: Vec<String> = (1..=3000).map(|n| format!("${n}")).collect();
        assert_eq!(placeholder_order(&many.join(", ")), (1..=3000).collect::<Vec<_>>());
    }

    #[test]
    fn a_multi_row_insert_binds_every_row() {
        let conn = open();
        let mut tx = SqliteTx { conn: &conn };
        let rows: Vec<String> = (0..500).map(|r| format!("(${}, ${})", 2 * r + 1, 2 * r + 2)).collect();
        let mut q = query(format!("INSERT INTO t (id, name) VALUES {}", rows.join(", ")));
        for r in 0..500_i64 {
            q = q.bind(r).bind(format!("n{r}"));
        }
        assert_eq!(q.execute(&mut tx).unwrap().rows_affected(), 500);
        let row = query("SELECT name FROM t WHERE id = $1").bind(499_i64).fetch_one(&mut tx).unwrap();
        assert_eq!(row.try_get::<String, _>("name").unwrap(), "n499");
    }

    #[test]
    fn wrong_types_and_missing_columns_are_errors() {
        let conn = open();
        let mut tx = SqliteTx { conn: &conn };
        query("INSERT INTO t (id, name) VALUES ($1, $2)").bind(1_i64).bind("a").execute(&mut tx).unwrap();
        let row = query("SELECT id, name, flag FROM t").fetch_one(&mut tx).unwrap();
        assert!(matches!(row.try_get::<String, _>("id"), Err(sqlx::Error::ColumnDecode { .. })));
        assert!(matches!(row.try_get::<String, _>("nope"), Err(sqlx::Error::ColumnNotFound(_))));
        assert!(matches!(row.try_get::<i64, _>("flag"), Err(sqlx::Error::ColumnDecode { .. })));
    }

    #[test]
    fn unique_violations_are_recognised() {
        let conn = open();
        let mut tx = SqliteTx { conn: &conn };
        query("INSERT INTO t (id, name) VALUES (1, $1)").bind("a").execute(&mut tx).unwrap();
        let err = query("INSERT INTO t (id, name) VALUES (2, $1)").bind("a").execute(&mut tx).unwrap_err();
        assert!(matches!(&err, sqlx::Error::Database(d) if d.is_unique_violation()), "{err:?}");
        let changed =
            query("UPDATE t SET flag = $1 WHERE id = $2").bind(true).bind(1_i64).execute(&mut tx).unwrap();
        assert_eq!(changed.rows_affected(), 1);
        let returned =
            query("UPDATE t SET score = 1.5 WHERE id = 1 RETURNING score").fetch_one(&mut tx).unwrap();
        assert_eq!(returned.try_get::<f64, _>("score").unwrap(), 1.5);
        assert!(query("SELECT flag FROM t").fetch_one(&mut tx).unwrap().try_get::<bool, _>(0).unwrap());
    }
}
