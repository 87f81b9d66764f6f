//! Audit-logged state changes per second through the store, beside the bare database's insert
//! rate measured by the same program with the same durability (SQLite: WAL, synchronous=FULL;
//! PostgreSQL: synchronous_commit on). The ratio audited/bare is the figure that counts.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, ConnectOptions, Connection};
use tokio::sync::Mutex;

use super::startup::scratch_dir;
use quanban::audit::{self, NewEntry};
use quanban::store::{Db, DbOptions};

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Concurrent writers (requests in flight)
    #[arg(long, default_value_t = 64)]
    pub writers: usize,
    /// Operations per measurement
    #[arg(long, default_value_t = 20_000)]
    pub ops: usize,
    /// PostgreSQL server for the PostgreSQL figures (a scratch database is created and dropped)
    #[arg(long)]
    pub postgres: Option<String>,
}

impl Default for AuditArgs {
    fn default() -> Self {
        AuditArgs { writers: 64, ops: 20_000, postgres: None }
    }
}

const CREATE: &str =
    "CREATE TABLE bench_records (id TEXT PRIMARY KEY, n BIGINT NOT NULL, version BIGINT NOT NULL)";

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let dir = scratch_dir()?;
    let url = format!("sqlite://{}", dir.join("audited.db").display());
    let db = Db::connect(&DbOptions {
        url,
        max_connections: 4,
        max_group: 256,
        max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
        clock: crate::bench_clock(),
    })
    .await?;
    let audited = audited_rate(&db, &args).await?;
    db.close().await;

    let bare_url = format!("sqlite://{}?mode=rwc", dir.join("bare.db").display());
    let mut conn = AnyConnectOptions::from_str(&bare_url)?.disable_statement_logging().connect().await?;
    sqlx::raw_sql("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;").execute(&mut conn).await?;
    sqlx::raw_sql(CREATE).execute(&mut conn).await?;
    let conn = Arc::new(Mutex::new(conn));
    let bare = bare_sqlite_rate(conn.clone(), &args).await?;
    let batched = bare_sqlite_batched(conn, &args).await?;
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "audit    SQLite  audited state changes {audited:9.0}/s | bare INSERT, one commit each {bare:9.0}/s | ratio {:.2}",
        audited / bare
    );
    println!(
        "         SQLite  bare INSERT in 256-row transactions (upper bound, not a durability-equal peer) {batched:9.0}/s | ratio {:.2}",
        audited / batched
    );

    if let Some(admin) = &args.postgres {
        match postgres(admin, &args).await {
            Ok((audited, bare)) => println!(
                "audit    Postgres audited state changes {audited:9.0}/s | bare INSERT, one commit each {bare:9.0}/s | ratio {:.2}",
                audited / bare
            ),
            Err(e) => println!("audit    Postgres skipped: {e:#}"),
        }
    }
    println!("         ({} writers, {} operations each measurement)", args.writers, args.ops);
    Ok(())
}

/// One audited state change: a row written and its audit entry, in one durable transaction.
async fn audited_rate(db: &Db, args: &AuditArgs) -> anyhow::Result<f64> {
    db.write(|c| quanban::store::query(CREATE).execute(&mut *c).map(|_| ()).map_err(Into::into)).await?;
    let db = db.clone();
    run_writers(args, move |i| {
        let db = db.clone();
        async move {
            let now = db.now_text();
            db.write(move |c| {
                quanban::store::query("INSERT INTO bench_records (id, n, version) VALUES ($1, $2, 1)")
                    .bind(format!("r{i}"))
                    .bind(i as i64)
                    .execute(&mut *c)?;
                let stream = format!("bench:{}", i % 1000);
                audit::store::append(
                    c,
                    &now,
                    NewEntry::new(stream, "bench", "bench.write", format!("r{i}"), "bench"),
                )?;
                Ok(())
            })
            .await?;
            Ok(())
        }
    })
    .await
}

async fn bare_sqlite_rate(conn: Arc<Mutex<AnyConnection>>, args: &AuditArgs) -> anyhow::Result<f64> {
    run_writers(args, move |i| {
        let conn = conn.clone();
        async move {
            let mut c = conn.lock().await;
            insert(&mut c, &format!("b{i}"), i).await
        }
    })
    .await
}

async fn bare_sqlite_batched(conn: Arc<Mutex<AnyConnection>>, args: &AuditArgs) -> anyhow::Result<f64> {
    let mut c = conn.lock().await;
    let started = Instant::now();
    for chunk in (0..args.ops).collect::<Vec<_>>().chunks(256) {
        let mut tx = c.begin().await?;
        for i in chunk {
            insert(&mut tx, &format!("t{i}"), *i).await?;
        }
        tx.commit().await?;
    }
    Ok(args.ops as f64 / started.elapsed().as_secs_f64())
}

async fn insert(c: &mut AnyConnection, id: &str, i: usize) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO bench_records (id, n, version) VALUES ($1, $2, 1)")
        .bind(id)
        .bind(i as i64)
        .execute(&mut *c)
        .await?;
    Ok(())
}

async fn run_writers<F, Fut>(args: &AuditArgs, op: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.writers.max(1) {
        let (next, op, ops) = (next.clone(), op.clone(), args.ops);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= ops {
                    return Ok::<_, anyhow::Error>(());
                }
                op(i).await?;
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(args.ops as f64 / started.elapsed().as_secs_f64().max(Duration::from_micros(1).as_secs_f64()))
}

async fn postgres(admin: &str, args: &AuditArgs) -> anyhow::Result<(f64, f64)> {
    sqlx::any::install_default_drivers();
    let mut admin_conn = AnyConnection::connect(admin).await?;
    let name = format!("quanban_bench_{}", &quanban::identity::session::random_token()[..10]);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin_conn).await?;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or_else(|| admin.to_string());
    let url = format!("{base}/{name}");
    let result = async {
        let db = Db::connect(&DbOptions {
            url: url.clone(),
            max_connections: 32,
            max_group: 256,
            max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
            clock: crate::bench_clock(),
        })
        .await?;
        let audited = audited_rate(&db, args).await?;
        db.close().await;
        let pool = AnyPoolOptions::new().max_connections(32).connect(&url).await?;
        sqlx::raw_sql("CREATE TABLE bare_records (id TEXT PRIMARY KEY, n BIGINT NOT NULL)")
            .execute(&pool)
            .await?;
        let bare = run_writers(args, move |i| {
            let pool = pool.clone();
            async move {
                sqlx::query("INSERT INTO bare_records (id, n) VALUES ($1, $2)")
                    .bind(format!("b{i}"))
                    .bind(i as i64)
                    .execute(&pool)
                    .await?;
                Ok(())
            }
        })
        .await?;
        Ok::<_, anyhow::Error>((audited, bare))
    }
    .await;
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin_conn)
        .await;
    result
}
