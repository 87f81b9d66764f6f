//! The appointment race and nearest-hall queries.
//!
//! - **Race**: 1,000 different people try at once to book one slot of capacity 10 over HTTP:
//!   on SQLite with one `quanban serve`, and on PostgreSQL with two `serve` processes sharing the
//!   database, the requests alternating between them. Prints confirmed / full / other, the
//!   database's own count of places taken, and attempts per second. People and their sessions are
//!   written straight into the database beforehand (1,000 password hashes would dominate).
//! - **Nearest**: nearest-hall queries per second through the spatial index in this process (one
//!   core), and over HTTP.

use std::time::{Duration, Instant};

use chrono::Datelike;
use clap::Args;
use sqlx::{AnyConnection, Connection, Row};

use super::ServerProcess;
use super::startup::scratch_dir;
use quanban::identity::session::{self, SessionKind};
use quanban::identity::store::{NewPerson, create_person};
use quanban::store::{Db, DbOptions};

#[derive(Args, Debug)]
pub struct BookingArgs {
    /// People trying to book the slot at once
    #[arg(long, default_value_t = 1000)]
    pub attempts: usize,
    /// Places in the slot
    #[arg(long, default_value_t = 10)]
    pub capacity: u32,
    /// PostgreSQL server (a scratch database is created and dropped); skipped when it does not answer
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres: String,
    #[arg(long)]
    pub no_postgres: bool,
}

impl Default for BookingArgs {
    fn default() -> Self {
        BookingArgs {
            attempts: 1000,
            capacity: 10,
            postgres: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            no_postgres: false,
        }
    }
}

const HALL: &str = "JN-H-0002";
const ITEM: &str = "JN-SPJ-0003";

pub async fn run(args: BookingArgs) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    println!(
        "Appointment race: {} people, one slot of capacity {} ({HALL}, {ITEM})",
        args.attempts, args.capacity
    );
    let dir = scratch_dir()?;
    let sqlite = race(&dir.join("data"), None, 1, &args).await;
    let _ = std::fs::remove_dir_all(&dir);
    sqlite?;
    if !args.no_postgres {
        match scratch_pg(&args.postgres).await {
            Ok((url, name, mut admin)) => {
                let dir = scratch_dir()?;
                let result = race(&dir, Some(&url), 2, &args).await;
                let _ = std::fs::remove_dir_all(&dir);
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await;
                result?;
            }
            Err(e) => println!("race Postgres skipped: {e}"),
        }
    }
    nearest(&args).await
}

async fn scratch_pg(admin: &str) -> anyhow::Result<(String, String, AnyConnection)> {
    let mut conn = tokio::time::timeout(Duration::from_secs(5), AnyConnection::connect(admin))
        .await
        .map_err(|_| anyhow::anyhow!("no answer from PostgreSQL"))??;
    let name = format!("quanban_bench_bk_{}", &session::random_token()[..10]);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await?;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or_else(|| admin.to_string());
    Ok((format!("{base}/{name}"), name, conn))
}

/// The next Monday-to-Friday working day after today, by the shipped calendar.
fn next_working_weekday(cal: &quanban::calendar::domain::Calendar) -> chrono::NaiveDate {
    let mut d = crate::bench_clock().today() + chrono::Duration::days(1);
    while !cal.is_working_day(d) || d.weekday().number_from_monday() > 5 {
        d += chrono::Duration::days(1);
    }
    d
}

async fn race(
    data: &std::path::Path,
    url: Option<&str>,
    processes: usize,
    args: &BookingArgs,
) -> anyhow::Result<()> {
    let capacity = args.capacity.to_string();
    let env = [("QUANBAN_SLOT_CAPACITY", capacity.as_str())];
    // The first server creates the schema and reference data.
    let first = ServerProcess::start_with(data, url, &env).await?;
    let db_url =
        url.map(str::to_string).unwrap_or_else(|| format!("sqlite://{}", data.join("quanban.db").display()));
    let db = Db::connect(&DbOptions {
        url: db_url,
        max_connections: 4,
        max_group: 256,
        max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
        clock: crate::bench_clock(),
    })
    .await?;
    let cal = quanban::calendar::store::load(&db).await?;
    // The server's key for personal data: from the same (demo) platform secret in the database.
    let secret = quanban::licences::service::seal_secret(&db, &quanban::config::Config::default()).await?;
    let vault = quanban::platform::pii::Vault::from_secret(&secret);
    let slot = format!("{}T09:00", next_working_weekday(&cal).format("%Y-%m-%d"));
    let mut tokens = Vec::with_capacity(args.attempts);
    for i in 0..args.attempts {
        let body = format!("370102199001{:05}", 10_000 + i);
        let id = quanban::demo::id_number(&body[..17]).ok_or_else(|| anyhow::anyhow!("id"))?;
        let phone = format!("177{:08}", i);
        let user = create_person(
            &db,
            NewPerson::sealed(
                &vault,
                "排队者".into(),
                &id,
                format!("{}**********{}", &id[..4], &id[14..]),
                &phone,
                format!("177****{}", &phone[7..]),
                // Never used to log in: the session below is made directly.
                "!".into(),
            ),
        )
        .await?;
        tokens.push(session::create(&db, &user, SessionKind::Api, 2).await?.token);
    }
    let mut servers = vec![first];
    for _ in 1..processes {
        servers.push(ServerProcess::start_with(data, url, &env).await?);
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(1024).build()?;
    let body = serde_json::json!({"hall_code": HALL, "item_code": ITEM, "slot_start": slot});
    let started = Instant::now();
    let results = futures::future::join_all(tokens.iter().enumerate().map(|(i, token)| {
        let url = format!("{}/api/v1/appointments", servers[i % servers.len()].base);
        let req = client.post(url).bearer_auth(token).json(&body);
        async move {
            match req.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let code = r
                        .json::<serde_json::Value>()
                        .await
                        .ok()
                        .and_then(|v| v["code"].as_str().map(str::to_string));
                    (status, code)
                }
                Err(_) => (0, None),
            }
        }
    }))
    .await;
    let elapsed = started.elapsed();
    let confirmed = results.iter().filter(|(s, _)| *s == 201).count();
    let full = results.iter().filter(|(s, c)| *s == 409 && c.as_deref() == Some("slot_full")).count();
    let other = results.len() - confirmed - full;
    let stored: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM appointments WHERE hall_code = $1 AND slot_start = $2 AND status = 'booked'",
    )
    .bind(HALL)
    .bind(&slot)
    .fetch_one(db.reader())
    .await?
    .try_get("n")?;
    let booked: i64 =
        sqlx::query("SELECT booked FROM appointment_slots WHERE hall_code = $1 AND slot_start = $2")
            .bind(HALL)
            .bind(&slot)
            .fetch_one(db.reader())
            .await?
            .try_get("booked")?;
    db.close().await;
    for s in servers {
        s.stop().await;
    }
    let name = if url.is_some() { "Postgres" } else { "SQLite  " };
    let verdict = if confirmed as u32 == args.capacity && stored == confirmed as i64 && booked == stored {
        "exactly the capacity"
    } else {
        "WRONG"
    };
    println!(
        "race {name} {processes} process(es): {confirmed} confirmed, {full} full, {other} other | stored {stored}, slot count {booked} — {verdict} | {:.0} attempts/s ({:.2} s)",
        results.len() as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    Ok(())
}

async fn nearest(_args: &BookingArgs) -> anyhow::Result<()> {
    let dir = scratch_dir()?;
    let data = dir.join("data");
    let server = ServerProcess::start_with(&data, None, &[]).await?;
    let db = Db::connect(&DbOptions {
        url: format!("sqlite://{}", data.join("quanban.db").display()),
        max_connections: 2,
        max_group: 16,
        max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
        clock: crate::bench_clock(),
    })
    .await?;
    let index = quanban::halls::service::HallsIndex::load(&db).await?;
    db.close().await;
    // In process, one core: the spatial index alone.
    let points: Vec<(f64, f64)> =
        (0..1000).map(|i| (36.3 + (i % 37) as f64 * 0.02, 116.6 + (i % 53) as f64 * 0.02)).collect();
    let started = Instant::now();
    let mut n = 0usize;
    while started.elapsed() < Duration::from_secs(2) {
        for (lat, lon) in &points {
            std::hint::black_box(index.directory.nearest(*lat, *lon, 5, |_| true));
            n += 1;
        }
    }
    let in_process = n as f64 / started.elapsed().as_secs_f64();
    // Over HTTP, 32 connections, with an item filter.
    let client = reqwest::Client::new();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(5);
    let tasks: Vec<_> = (0..32)
        .map(|k| {
            let client = client.clone();
            let base = server.base.clone();
            tokio::spawn(async move {
                let mut done = 0usize;
                let mut errors = 0usize;
                let mut i = k;
                while Instant::now() < deadline {
                    let (lat, lon) = (36.3 + (i % 37) as f64 * 0.02, 116.6 + (i % 53) as f64 * 0.02);
                    let url =
                        format!("{base}/api/v1/halls/nearest?lat={lat:.4}&lon={lon:.4}&item={ITEM}&limit=5");
                    match client.get(url).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            done += 1;
                        }
                        _ => errors += 1,
                    }
                    i += 32;
                }
                (done, errors)
            })
        })
        .collect();
    let mut done = 0;
    let mut errors = 0;
    for t in tasks {
        let (d, e) = t.await?;
        done += d;
        errors += e;
    }
    let http = done as f64 / started.elapsed().as_secs_f64();
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "nearest halls: {in_process:.0} queries/s in process (R*-tree over 51 halls, one core) | {http:.0} requests/s over HTTP (32 connections, item filter, server and clients sharing 2 cores), {errors} errors"
    );
    Ok(())
}
