//! Full case lifecycles over real HTTP: a `quanban serve` child process on a fresh database
//! (SQLite in a scratch data directory; a scratch PostgreSQL database when a server answers), the
//! demo citizen, window clerk and approver logged in, and C concurrent clients each running
//! submit → accept → approve → close (食品经营许可, JN-SPJ-0003: single approver) until N
//! lifecycles are done. Beside the figures: the bare database's rate of one-row transactions at
//! the same durability, measured by this program (SQLite: WAL, synchronous=FULL; PostgreSQL:
//! synchronous_commit on).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{Value, json};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, ConnectOptions, Connection};
use tokio::sync::Mutex;

use super::quantile;
use super::startup::scratch_dir;
use quanban::store::{Db, DbOptions};

/// What the bench aims for on SQLite on one machine.
const GOAL_PER_SECOND: f64 = 1000.0;
const ITEM: &str = "JN-SPJ-0003";
const CITIZEN: &str = "13800138001";
const CLERK: &str = "spj.clerk";
const APPROVER: &str = "spj.approver";
const ACTIONS: [&str; 4] = ["submit", "accept", "approve", "close"];

#[derive(Args, Debug)]
pub struct LifecycleArgs {
    /// Lifecycles to run (after one warm-up lifecycle per client)
    #[arg(long, env = "QUANBAN_BENCH_LIFECYCLES", default_value_t = 2000)]
    pub lifecycles: usize,
    /// Concurrent clients (each one keep-alive connection, one request in flight)
    #[arg(long, env = "QUANBAN_BENCH_CLIENTS", default_value_t = 64)]
    pub clients: usize,
    /// One-row transactions for the bare database's rate
    #[arg(long, default_value_t = 2000)]
    pub bare_ops: usize,
    /// PostgreSQL server for the PostgreSQL figures (a scratch database is created and dropped);
    /// skipped when it does not answer
    #[arg(
        long,
        env = "QUANBAN_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    pub postgres: String,
    /// SQLite only
    #[arg(long)]
    pub no_postgres: bool,
    /// After each run, time the parts in this process on the run's database: the bearer-token
    /// lookup every request makes, and writes of 1 and of 10 statements through the store
    #[arg(long)]
    pub breakdown: bool,
}

impl Default for LifecycleArgs {
    fn default() -> Self {
        LifecycleArgs {
            lifecycles: 2000,
            clients: 64,
            bare_ops: 2000,
            postgres: "postgres://postgres@127.0.0.1:5432/postgres".into(),
            no_postgres: false,
            breakdown: false,
        }
    }
}

pub async fn run(args: LifecycleArgs) -> anyhow::Result<()> {
    let dir = scratch_dir()?;
    let result = sqlite(&dir, &args).await;
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    if args.no_postgres {
        println!("lifecycle Postgres skipped (--no-postgres)");
    } else {
        match postgres(&args).await {
            Ok(()) => {}
            Err(e) => println!("lifecycle Postgres not measured: {e:#}"),
        }
    }
    println!(
        "          ({} lifecycles, {} clients, server max_connections {}; server and clients share this machine's {} cores)",
        args.lifecycles,
        args.clients.max(1),
        server_pool_size(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    Ok(())
}

async fn sqlite(dir: &std::path::Path, args: &LifecycleArgs) -> anyhow::Result<()> {
    let data = dir.join("data");
    let server = Server::start(&data, None).await?;
    let db_url = format!("sqlite://{}", data.join("quanban.db").display());
    let figures = measure(std::slice::from_ref(&server), &db_url, args).await;
    server.stop().await;
    let figures = figures?;
    let bare = bare_sqlite(&dir.join("bare.db"), args).await?;
    figures.print("SQLite  ", Some((bare, "bare INSERT, one commit each (WAL, synchronous=FULL)")));
    let verdict = if figures.lifecycles_per_second >= GOAL_PER_SECOND { "met" } else { "NOT met" };
    println!("          goal: ≥{GOAL_PER_SECOND:.0} lifecycles/s on SQLite — {verdict}");
    if args.breakdown {
        breakdown(&db_url, &figures.token, args).await?;
    }
    Ok(())
}

async fn postgres(args: &LifecycleArgs) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let admin = &args.postgres;
    let mut admin_conn =
        tokio::time::timeout(Duration::from_secs(5), AnyConnection::connect(admin)).await.map_err(
            |_| anyhow::anyhow!("{} does not answer", admin.split('@').next_back().unwrap_or(admin)),
        )??;
    let name = format!("quanban_bench_lc_{}", &quanban::identity::session::random_token()[..10]);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut admin_conn).await?;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or_else(|| admin.to_string());
    let url = format!("{base}/{name}");
    let dir = scratch_dir()?;
    let result = async {
        // Two server processes share the database, as a city would scale out; the clients are
        // spread over both.
        let first = Server::start(&dir.join("a"), Some(&url)).await?;
        let second = Server::start(&dir.join("b"), Some(&url)).await;
        let servers = match second {
            Ok(second) => vec![first, second],
            Err(e) => {
                first.stop().await;
                return Err(e);
            }
        };
        let figures = measure(&servers, &url, args).await;
        for server in servers {
            server.stop().await;
        }
        let figures = figures?;
        let bare = bare_postgres(&url, args).await?;
        figures.print(
            "Postgres",
            Some((bare, "bare INSERT, one commit each (synchronous_commit on); 2 serve processes")),
        );
        if args.breakdown {
            breakdown(&url, &figures.token, args).await?;
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
        .execute(&mut admin_conn)
        .await;
    result
}

/// What one run measured.
pub(super) struct Figures {
    lifecycles: usize,
    seconds: f64,
    lifecycles_per_second: f64,
    writes_per_second: f64,
    /// Sorted latencies in microseconds, per action in the order of [`ACTIONS`].
    latencies: [Vec<u64>; 4],
    errors: u64,
    first_error: Option<String>,
    /// CPU time of the server process and of this process (the clients) during the run, when
    /// the system tells (Linux).
    cpu: Option<(Duration, Duration)>,
    /// CPU time of PostgreSQL's processes during the run (PostgreSQL on this machine only).
    database_cpu: Option<Duration>,
    /// The window clerk's bearer token (for the breakdown).
    token: String,
    /// The SQLite writer's figures, when the server has one.
    writer: Option<String>,
}

impl Figures {
    /// Prints the figures; `bare` is the bare database's rate beside them and what it is, when
    /// measured.
    pub(super) fn print(&self, backend: &str, bare: Option<(f64, &str)>) {
        println!(
            "lifecycle {backend} {} lifecycles in {:.2} s: {:7.0} lifecycles/s | {:7.0} HTTP writes/s | failed requests {}",
            self.lifecycles, self.seconds, self.lifecycles_per_second, self.writes_per_second, self.errors
        );
        let per_action: Vec<String> = ACTIONS
            .iter()
            .zip(&self.latencies)
            .map(|(name, l)| {
                format!(
                    "{name} p50 {:.2} ms p99 {:.2} ms",
                    quantile(l, 0.50) as f64 / 1000.0,
                    quantile(l, 0.99) as f64 / 1000.0
                )
            })
            .collect();
        println!("          {}", per_action.join(" | "));
        if let Some((bare, bare_label)) = bare {
            println!(
                "          {bare_label}: {bare:7.0} tx/s | HTTP writes/bare {:.2}",
                self.writes_per_second / bare
            );
        }
        if let Some((server, clients)) = self.cpu
            && self.lifecycles > 0
        {
            let per = |d: Duration| d.as_secs_f64() * 1000.0 / self.lifecycles as f64;
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
            let database = self.database_cpu.unwrap_or_default();
            let database_text =
                self.database_cpu.map(|d| format!(", PostgreSQL {:.2} ms", per(d))).unwrap_or_default();
            println!(
                "          CPU per lifecycle: server {:.2} ms, clients {:.2} ms{database_text}; machine busy {:.0}% of {cores} cores",
                per(server),
                per(clients),
                (server + clients + database).as_secs_f64() / self.seconds / cores * 100.0
            );
        }
        if let Some(w) = &self.writer {
            println!("          {w}");
        }
        if let Some(e) = &self.first_error {
            println!("          first error: {e}");
        }
    }
}

/// Logs in the three demo accounts, warms up, then runs the lifecycles.
pub(super) async fn measure(
    servers: &[Server],
    db_url: &str,
    args: &LifecycleArgs,
) -> anyhow::Result<Figures> {
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let db = Db::connect(&DbOptions {
        url: db_url.to_string(),
        max_connections: 2,
        max_group: 1,
        max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
        clock: crate::bench_clock(),
    })
    .await?;
    let accounts = match quanban::licences::service::seal_secret(&db, &quanban::config::Config::default())
        .await
    {
        Ok(secret) => quanban::demo::list(&db, &quanban::platform::pii::Vault::from_secret(&secret)).await,
        Err(e) => Err(quanban::store::StoreError::Invalid(e.to_string())),
    };
    db.close().await;
    let accounts = accounts?;
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for who in [CITIZEN, CLERK, APPROVER] {
        let account = accounts
            .iter()
            .find(|a| a.username == who)
            .ok_or_else(|| anyhow::anyhow!("demo account {who} missing"))?;
        let answer: Value = http
            .post(format!("{}/api/v1/auth/token", bases[0]))
            .json(&json!({"username": account.username, "password": account.password}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = answer["token"].as_str().ok_or_else(|| anyhow::anyhow!("no token for {who}"))?;
        tokens.push(token.to_string());
    }
    let tokens = Arc::new(Tokens {
        citizen: tokens[0].clone(),
        clerk: tokens[1].clone(),
        approver: tokens[2].clone(),
    });
    let clients = args.clients.max(1);
    let mut connections = Vec::with_capacity(clients);
    for _ in 0..clients {
        // One client per task: one keep-alive connection each, like separate users.
        connections.push(reqwest::Client::builder().pool_max_idle_per_host(1).build()?);
    }
    // Warm-up: one lifecycle per client, not measured (connections, caches, first pages).
    let warm = drive(&bases, &connections, &tokens, clients).await?;
    anyhow::ensure!(warm.errors == 0, "warm-up failed: {}", warm.first_error.unwrap_or_default());
    let servers_cpu = || servers.iter().map(|s| process_cpu(s.child.id())).sum::<Option<Duration>>();
    let cpu_before = (servers_cpu(), process_cpu(Some(std::process::id())));
    let postgres = db_url.starts_with("postgres");
    let database_before = if postgres { postgres_cpu() } else { None };
    let started = Instant::now();
    let run = drive(&bases, &connections, &tokens, args.lifecycles).await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = match (cpu_before, (servers_cpu(), process_cpu(Some(std::process::id())))) {
        ((Some(s0), Some(c0)), (Some(s1), Some(c1))) => Some((s1.saturating_sub(s0), c1.saturating_sub(c0))),
        _ => None,
    };
    let database_cpu = match (database_before, if postgres { postgres_cpu() } else { None }) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    let writer = writer_figures(&http, &bases[0]).await;
    let mut latencies = run.latencies;
    for l in &mut latencies {
        l.sort_unstable();
    }
    let writes: usize = latencies.iter().map(Vec::len).sum();
    Ok(Figures {
        lifecycles: run.completed,
        seconds,
        lifecycles_per_second: run.completed as f64 / seconds,
        writes_per_second: writes as f64 / seconds,
        latencies,
        errors: run.errors,
        first_error: run.first_error,
        cpu,
        database_cpu,
        token: tokens.clerk.clone(),
        writer,
    })
}

/// The SQLite writer's counters from the server's `/metrics` (warm-up included): groups, bodies
/// per group, and the mean time a body waited for its group and a group took.
async fn writer_figures(http: &reqwest::Client, base: &str) -> Option<String> {
    let text = http.get(format!("{base}/metrics")).send().await.ok()?.text().await.ok()?;
    let value = |name: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("quanban_{name}_total ")))
            .and_then(|v| v.trim().parse().ok())
    };
    let (groups, bodies) = (value("writer_groups")?, value("writer_bodies")?);
    let (wait, took) = (value("writer_queue_wait_microseconds")?, value("writer_group_microseconds")?);
    (groups > 0.0).then(|| {
        format!(
            "writer: {groups:.0} groups, {:.1} bodies per group, queue wait {:.2} ms per body, {:.2} ms per group (BEGIN to COMMIT)",
            bodies / groups,
            wait / bodies.max(1.0) / 1000.0,
            took / groups / 1000.0
        )
    })
}

/// CPU time used so far by every live thread of process `pid` (Linux: `/proc/PID/task/*/schedstat`,
/// nanoseconds on CPU first); `None` where that is not available.
fn process_cpu(pid: Option<u32>) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{}/task", pid?)).ok()?;
    let mut total = 0u64;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        total += stat.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    }
    Some(Duration::from_nanos(total))
}

/// CPU time used so far by every process named `postgres` on this machine (the server and its
/// backends, each one thread); `None` where `/proc` does not tell. A backend that exits during
/// the run takes its time with it, so this is a lower bound.
fn postgres_cpu() -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut found = false;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if comm.trim() == "postgres" {
            found = true;
            total += process_cpu(Some(pid)).unwrap_or_default();
        }
    }
    found.then_some(total)
}

struct Tokens {
    citizen: String,
    clerk: String,
    approver: String,
}

#[derive(Default)]
struct Run {
    completed: usize,
    latencies: [Vec<u64>; 4],
    errors: u64,
    first_error: Option<String>,
}

/// Runs `total` lifecycles with one task per connection; each task takes the next lifecycle
/// until none are left. A failed step ends that lifecycle and counts one error.
async fn drive(
    bases: &[String],
    connections: &[reqwest::Client],
    tokens: &Arc<Tokens>,
    total: usize,
) -> anyhow::Result<Run> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(connections.len());
    for (i, client) in connections.iter().enumerate() {
        let base = bases[i % bases.len()].clone();
        let (client, tokens, next) = (client.clone(), tokens.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                match lifecycle(&client, &base, &tokens, &mut run.latencies).await {
                    Ok(()) => run.completed += 1,
                    Err(e) => {
                        run.errors += 1;
                        run.first_error.get_or_insert(e);
                    }
                }
            }
            run
        }));
    }
    let mut all = Run::default();
    for t in tasks {
        let run = t.await?;
        all.completed += run.completed;
        all.errors += run.errors;
        for (into, from) in all.latencies.iter_mut().zip(run.latencies) {
            into.extend(from);
        }
        if all.first_error.is_none() {
            all.first_error = run.first_error;
        }
    }
    Ok(all)
}

/// submit → accept → approve → close, each step's latency recorded when it succeeds.
async fn lifecycle(
    client: &reqwest::Client,
    base: &str,
    tokens: &Tokens,
    latencies: &mut [Vec<u64>; 4],
) -> Result<(), String> {
    let body = json!({"item_code": ITEM, "form": {"contact_name": "张伟", "contact_phone": CITIZEN}});
    let created =
        post(client, format!("{base}/api/v1/cases"), &tokens.citizen, body, 201, &mut latencies[0]).await?;
    let number = created["case_number"].as_str().ok_or("submit answered no case_number")?.to_string();
    let steps = [("accept", &tokens.clerk), ("approve", &tokens.approver), ("close", &tokens.approver)];
    for (i, (action, token)) in steps.into_iter().enumerate() {
        let url = format!("{base}/api/v1/cases/{number}/actions/{action}");
        post(client, url, token, json!({}), 200, &mut latencies[i + 1]).await?;
    }
    Ok(())
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
    expect: u16,
    latencies: &mut Vec<u64>,
) -> Result<Value, String> {
    let t0 = Instant::now();
    let resp =
        client.post(&url).bearer_auth(token).json(&body).send().await.map_err(|e| format!("{url}: {e}"))?;
    let status = resp.status().as_u16();
    let text = resp.text().await.map_err(|e| format!("{url}: {e}"))?;
    if status != expect {
        return Err(format!("{url}: {status} {text}"));
    }
    latencies.push(t0.elapsed().as_micros() as u64);
    serde_json::from_str(&text).map_err(|e| format!("{url}: {e}"))
}

/// SQLite: one connection in WAL mode with synchronous=FULL (the app's pragmas), one row inserted
/// and committed per transaction, the writers taking turns on the connection.
async fn bare_sqlite(path: &std::path::Path, args: &LifecycleArgs) -> anyhow::Result<f64> {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = AnyConnectOptions::from_str(&url)?.disable_statement_logging().connect().await?;
    sqlx::raw_sql("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        .execute(&mut conn)
        .await?;
    sqlx::raw_sql(CREATE).execute(&mut conn).await?;
    let conn = Arc::new(Mutex::new(conn));
    writers(args, move |i| {
        let conn = conn.clone();
        async move {
            let mut c = conn.lock().await;
            let mut tx = c.begin().await?;
            insert(&mut tx, i).await?;
            tx.commit().await?;
            Ok(())
        }
    })
    .await
}

/// PostgreSQL: a pool as large as the server's, one row per committed transaction.
async fn bare_postgres(url: &str, args: &LifecycleArgs) -> anyhow::Result<f64> {
    let size = server_pool_size();
    let pool = AnyPoolOptions::new().max_connections(size).connect(url).await?;
    sqlx::raw_sql(CREATE).execute(&pool).await?;
    let rate = writers(args, {
        let pool = pool.clone();
        move |i| {
            let pool = pool.clone();
            async move {
                let mut c = pool.acquire().await?;
                let mut tx = c.begin().await?;
                insert(&mut tx, i).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    })
    .await;
    pool.close().await;
    rate
}

const CREATE: &str =
    "CREATE TABLE bench_bare (id TEXT PRIMARY KEY, n BIGINT NOT NULL, version BIGINT NOT NULL)";

async fn insert(c: &mut AnyConnection, i: usize) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO bench_bare (id, n, version) VALUES ($1, $2, 1)")
        .bind(format!("b{i}"))
        .bind(i as i64)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The server's database pool size: the default unless `QUANBAN_MAX_CONNECTIONS` (which the
/// child inherits) says otherwise.
fn server_pool_size() -> u32 {
    std::env::var("QUANBAN_MAX_CONNECTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(quanban::config::Config::default().max_connections)
}

/// `bare_ops` operations from as many concurrent writers as the HTTP run has clients; ops/s.
async fn writers<F, Fut>(args: &LifecycleArgs, op: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let ops = args.bare_ops.max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients.max(1) {
        let (next, op) = (next.clone(), op.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
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
    Ok(ops as f64 / started.elapsed().as_secs_f64())
}

/// A `quanban serve` child process (this same binary) on a fresh port, killed on drop.
pub(super) struct Server {
    pub(super) child: tokio::process::Child,
    base: String,
}

impl Server {
    pub(super) async fn start(data: &std::path::Path, database_url: Option<&str>) -> anyhow::Result<Server> {
        use tokio::io::AsyncBufReadExt;
        let mut command = tokio::process::Command::new(std::env::current_exe()?);
        command.args(["serve", "--bind", "127.0.0.1:0", "--data"]).arg(data);
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command
            .env("QUANBAN_LOG", "warn")
            .env("QUANBAN_CLOCK", quanban::platform::clock::TEST_INSTANT)
            // Every client of a benchmark comes from this one machine.
            .env("QUANBAN_RATE_LIMITS", "false")
            .env_remove("QUANBAN_DATABASE_URL")
            .env_remove("QUANBAN_DATA")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.split("running at ").nth(1) {
                let base = rest.split_whitespace().next().unwrap_or("").trim_end_matches('/').to_string();
                // Keep draining stdout so the child never blocks on a full pipe.
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                return Ok(Server { child, base });
            }
        }
        anyhow::bail!("server exited before it was ready")
    }

    pub(super) async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The parts of a request timed in this process against the run's database (server stopped), with
/// as many concurrent callers as the run had clients: the bearer-token lookup (every request makes
/// one, 2 queries), and writes through `Db::write` of 1 and of 10 statements (a case action's
/// transaction body is 8–13 statements).
async fn breakdown(url: &str, token: &str, args: &LifecycleArgs) -> anyhow::Result<()> {
    let db = Db::connect(&DbOptions {
        url: url.to_string(),
        max_connections: server_pool_size(),
        max_group: 256,
        max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
        clock: crate::bench_clock(),
    })
    .await?;
    let ops = args.bare_ops.max(1) * 2;
    let timed = |name: &'static str, rate: f64| {
        println!("          breakdown {name:<42} {rate:8.0}/s   {:7.1} µs each", 1e6 / rate);
    };
    let (d, t) = (db.clone(), token.to_string());
    let rate = parts(args.clients, ops, move |_| {
        let (db, token) = (d.clone(), t.clone());
        async move {
            anyhow::ensure!(quanban::identity::session::lookup(&db, &token).await?.is_some(), "session gone");
            Ok(())
        }
    })
    .await?;
    timed("bearer-token lookup (2 reads)", rate);
    db.write(|c| {
        quanban::store::query(
            "CREATE TABLE IF NOT EXISTS bench_breakdown (id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
        )
        .execute(&mut *c)?;
        Ok(())
    })
    .await?;
    for statements in [1usize, 10] {
        let d = db.clone();
        let rate = parts(args.clients, ops, move |i| {
            let db = d.clone();
            async move {
                db.write(move |c| {
                    let id = format!("s{statements}-{i}");
                    quanban::store::query("INSERT INTO bench_breakdown (id, n) VALUES ($1, 0)")
                        .bind(&id)
                        .execute(&mut *c)?;
                    for _ in 1..statements {
                        quanban::store::query("UPDATE bench_breakdown SET n = n + 1 WHERE id = $1")
                            .bind(&id)
                            .execute(&mut *c)?;
                    }
                    Ok(())
                })
                .await?;
                Ok(())
            }
        })
        .await?;
        timed(if statements == 1 { "write, 1 statement" } else { "write, 10 statements" }, rate);
    }
    db.close().await;
    Ok(())
}

/// `ops` calls of `op` from `clients` concurrent tasks; calls/s.
async fn parts<F, Fut>(clients: usize, ops: usize, op: F) -> anyhow::Result<f64>
where
    F: Fn(usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    writers(&LifecycleArgs { clients, bare_ops: ops, ..LifecycleArgs::default() }, op).await
}
