//! Storage: one store written once for SQLite (embedded default) and PostgreSQL (scale-out).
//!
//! Statements are written once with `$1` placeholders, which both backends accept ([`sql`]).
//! Writes are funnelled through [`Db::write`] as synchronous bodies over [`sql::Tx`]: on
//! PostgreSQL each write is its own transaction on a pooled connection; on SQLite every write
//! goes to a single writer thread that owns the connection and commits concurrent requests in
//! groups (see [`group_commit`]), which is what lets us keep `synchronous=FULL` (acknowledged
//! means on disk) and still never show "database is locked". Reads go to the sqlx pool.

pub mod group_commit;
mod migrate;
mod pg_writers;
pub mod sql;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection};

pub use group_commit::GroupWriter;
pub use sql::{Row, Tx, query};

use crate::platform::clock::Clock;
use crate::platform::pii::Vault;

/// Which database engine a [`Db`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Errors of the storage layer. Constraint violations the callers expect are their own variants
/// so that the HTTP layer can turn them into 4xx answers; everything else is `Database`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    /// Optimistic concurrency: the row's version moved on since the caller read it.
    #[error("the record was changed by someone else")]
    Conflict,
    #[error("a record with this {0} already exists")]
    Duplicate(&'static str),
    #[error("the writer is shutting down")]
    WriterGone,
    /// The write queue is full: the caller should try again shortly (HTTP 503 with Retry-After).
    #[error("too many writes are waiting")]
    Busy,
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Duplicate`] naming `what`.
    pub fn unique_as(err: sqlx::Error, what: &'static str) -> StoreError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(what),
            _ => StoreError::Database(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// PostgreSQL's answers to two transactions that collided (serialization failure, deadlock):
/// the loser is rolled back whole, so to the caller it is the same as losing a version claim.
fn is_race(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("40001" | "40P01")))
}

impl StoreError {
    fn or_conflict(self) -> StoreError {
        match self {
            StoreError::Database(e) if is_race(&e) => StoreError::Conflict,
            other => other,
        }
    }
}

/// A write transaction body: given the open transaction, do the work. Returning an error rolls
/// back this body's changes (and only this body's). Synchronous on purpose: nothing inside a
/// transaction waits on anything but the database.
pub type WriteBody<T> = Box<dyn FnOnce(&mut dyn Tx) -> StoreResult<T> + Send>;

/// Handle to the database: a read pool plus the write path for the backend.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    pool: AnyPool,
    writer: Option<Arc<GroupWriter>>,
    /// PostgreSQL's writer threads; `None` on SQLite.
    pg_writers: Option<Arc<pg_writers::PgWriters>>,
    /// The application's one clock: stores stamp their rows from it, never from the system.
    clock: Clock,
    /// Seals and opens the personal data that stores keep in their rows (contact phones and
    /// e-mail addresses in case forms, assistance requests and the outbox). Set once the platform
    /// secret is known ([`Db::with_vault`]); a store that needs it without one refuses.
    vault: Option<Arc<Vault>>,
    /// SQLite's reader connections ([`sql::SqliteReaders`]); `None` on PostgreSQL.
    sqlite_readers: Option<Arc<sql::SqliteReaders>>,
}

/// How many writes may wait for the SQLite writer by default: about four seconds of work at the
/// measured rate, beyond which answering 503 is kinder than a client timing out.
pub const DEFAULT_WRITE_QUEUE: usize = 4096;

/// Connection settings for [`Db::connect`].
#[derive(Clone, Debug)]
pub struct DbOptions {
    /// `sqlite://path` or `postgres://…`.
    pub url: String,
    pub max_connections: u32,
    /// Most write bodies one SQLite group commit takes in.
    pub max_group: usize,
    /// Most writes that may wait for the SQLite writer; one more is refused with
    /// [`StoreError::Busy`] instead of letting the queue (and every caller's wait) grow.
    pub max_queue: usize,
    pub clock: Clock,
}

impl Db {
    /// Opens (creating if needed) the database and runs the migrations.
    pub async fn connect(opts: &DbOptions) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if opts.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("unsupported database URL (use sqlite:// or postgres://)");
        };
        let db = match backend {
            Backend::Sqlite => {
                let path = opts.url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                if let Some(parent) = Path::new(path).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent)?;
                }
                let url = format!("sqlite://{path}?mode=rwc");
                // The writer connection is opened first so that WAL mode is set before readers
                // come along (journal_mode is a property of the file).
                let mut writer_conn =
                    AnyConnectOptions::from_str(&url)?.disable_statement_logging().connect().await?;
                sqlite_pragmas(&mut writer_conn).await?;
                sqlx::raw_sql("PRAGMA journal_mode = WAL").execute(&mut writer_conn).await?;
                migrate::run(Backend::Sqlite, &mut writer_conn).await?;
                writer_conn.close().await?;
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(2))
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| Box::pin(async move { sqlite_pragmas(conn).await }))
                    .connect_with(AnyConnectOptions::from_str(&url)?.disable_statement_logging())
                    .await?;
                let writer = GroupWriter::start(
                    open_sqlite_writer(Path::new(path))?,
                    opts.max_group.max(1),
                    opts.max_queue.max(1),
                )?;
                Db {
                    backend,
                    pool,
                    writer: Some(Arc::new(writer)),
                    pg_writers: None,
                    clock: opts.clock.clone(),
                    vault: None,
                    sqlite_readers: Some(Arc::new(sql::SqliteReaders::new(Path::new(path)))),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(2))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(AnyConnectOptions::from_str(&opts.url)?.disable_statement_logging())
                    .await?;
                let mut conn = pool.acquire().await?;
                migrate::run(Backend::Postgres, &mut conn).await?;
                // Half the connections write (one per writer thread), beside the read pool.
                let writers = pg_writers::PgWriters::start(
                    AnyConnectOptions::from_str(&opts.url)?.disable_statement_logging(),
                    (opts.max_connections as usize / 2).max(2),
                    opts.max_queue.max(1),
                )?;
                Db {
                    backend,
                    pool,
                    writer: None,
                    pg_writers: Some(Arc::new(writers)),
                    clock: opts.clock.clone(),
                    vault: None,
                    sqlite_readers: None,
                }
            }
        };
        Ok(db)
    }

    /// This handle with the personal-data vault that stores seal and open rows with.
    pub fn with_vault(mut self, vault: Arc<Vault>) -> Db {
        self.vault = Some(vault);
        self
    }

    /// The personal-data vault; an error on a handle opened without one (a tool that never reads
    /// personal data), rather than a row written in clear.
    pub fn vault(&self) -> StoreResult<&Arc<Vault>> {
        self.vault.as_ref().ok_or(StoreError::Invalid("personal data key not loaded".into()))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The application's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current instant by the application's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// The current instant as the fixed-width UTC text we store.
    pub fn now_text(&self) -> String {
        time_text(self.clock.now())
    }

    /// SQLite's reader connections, which `store::query(…).read_*(db)` uses in place.
    pub(crate) fn sqlite_readers(&self) -> Option<&sql::SqliteReaders> {
        self.sqlite_readers.as_deref()
    }

    /// The pool for reads. Never write through it: writes go through [`Db::write`].
    pub fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs `body` inside a transaction and returns once its changes are durable.
    ///
    /// The contract every body keeps: its first statement claims what it changes (a
    /// version-guarded `UPDATE`, or a lock on the shared row it reads and then writes), and when
    /// the claim fails it returns `Err(StoreError::Conflict)`, which rolls back everything the body
    /// did. A body never returns `Ok` after a lost claim.
    pub async fn write<T, F>(&self, body: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx) -> StoreResult<T> + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.submit(Box::new(body)).await,
            None => match &self.pg_writers {
                Some(writers) => writers.submit(Box::new(body)).await,
                None => Err(StoreError::WriterGone),
            },
        }
    }

    /// The SQLite writer's counters (`None` on PostgreSQL, which has no single writer).
    pub fn writer_stats(&self) -> Option<group_commit::WriterStats> {
        self.writer.as_ref().map(|w| w.stats())
    }

    /// Cheap liveness query for `/readyz`.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Waits for queued writes and closes connections.
    pub async fn close(&self) {
        if let Some(writer) = &self.writer {
            writer.shutdown().await;
        }
        if let Some(writers) = &self.pg_writers {
            writers.shutdown().await;
        }
        self.pool.close().await;
    }
}

/// The writer thread's connection, with the same settings as the pool's.
fn open_sqlite_writer(path: &Path) -> anyhow::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")?;
    // Each body runs in a savepoint, and SQLite keeps the pages a savepoint may have to restore
    // in a sub-journal: a temporary file by default, written with one pwrite per page (measured:
    // about 900 a group, more than the WAL itself). In memory it costs a few pages of RAM.
    // A larger page cache keeps a group's pages from spilling to the WAL before the commit.
    conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16384;")?;
    // Every statement the areas write stays prepared: a lifecycle uses a few dozen.
    conn.set_prepared_statement_cache_capacity(512);
    Ok(conn)
}

async fn sqlite_pragmas(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    // synchronous=FULL: a commit returns only after the WAL is fsynced, so an acknowledged write
    // survives power loss. busy_timeout covers readers racing a checkpoint.
    sqlx::raw_sql("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;")
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes the row lock on a shared row that a body reads and then writes (a bundle's parent,
/// a lock row): `UPDATE … SET version = version`. On PostgreSQL a second transaction waits here
/// until the first commits, and its later statements then see what the first wrote (READ
/// COMMITTED takes a fresh snapshot per statement). On SQLite the single writer already
/// serialises bodies and this costs one indexed no-op update. `false` if no such row.
pub fn lock_row(conn: &mut dyn Tx, table: LockTable, key: &str) -> StoreResult<bool> {
    let sql = match table {
        LockTable::Case => "UPDATE cases SET version = version WHERE number = $1",
        LockTable::Lock => "UPDATE job_leases SET version = version WHERE name = $1",
    };
    let done = query(sql).bind(key).execute(conn)?;
    Ok(done.rows_affected() == 1)
}

/// The tables [`lock_row`] knows (a closed list, so no SQL is built from strings).
#[derive(Clone, Copy, Debug)]
pub enum LockTable {
    /// `cases`, by number.
    Case,
    /// `job_leases`, by name: rows that exist only to be locked, for work that reads a set of
    /// rows and then writes (the proactive cluster scan).
    Lock,
}

/// Claims once-only work (start-up seeding, demo data) named `key`, inside the transaction that
/// does the work: `true` for the one caller that gets to do it. On PostgreSQL a second process
/// arriving meanwhile waits on the first one's uncommitted row, then finds it and gets `false`;
/// if the first one rolls back, the claim is free again. SQLite has one writer. Every start-up
/// seeding goes through here, so several `serve` processes can start together on one database.
pub fn claim_once(conn: &mut dyn Tx, key: &str, now: &str) -> StoreResult<bool> {
    let claimed = query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(now)
        .execute(conn)?;
    Ok(claimed.rows_affected() == 1)
}

/// Stored instants are written and read by the clock's module (pure functions, usable by domains).
pub use crate::platform::clock::{parse_time, time_text};
