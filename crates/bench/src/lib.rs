//! Benchmarks that print figures (`quanban bench …`). They measure; they assert nothing. Run them
//! on a release build: `cargo run --release -- bench all`.

mod activity;
mod audit;
mod booking;
mod complaints;
mod credentials;
mod exchange;
mod guide;
mod lifecycle;
mod load;
mod memory;
mod policies;
mod startup;
mod supervision;

use clap::{Args, Subcommand};

/// The clock every benchmark runs on, in process and in the `serve` children it starts: a
/// working morning, so that figures do not depend on when the benchmark is run (halls are open,
/// slots bookable) and runs compare.
pub fn bench_clock() -> quanban::platform::clock::Clock {
    quanban::platform::clock::Clock::fixed(quanban::platform::clock::test_instant())
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Start-up to ready on SQLite with the reference data: fresh data directory and restart
    Startup(startup::StartupArgs),
    /// Authenticated GET /api/v1/me under load from a client in this process: requests/s, p50, p99
    Me(load::LoadArgs),
    /// Audit-logged state changes per second through the store vs. the bare database's inserts
    Audit(audit::AuditArgs),
    /// Guidance search: index build time, top-1/top-3 on the evaluation set, latency p50/p99
    Guide(guide::GuideArgs),
    /// Full case lifecycles (submit → accept → approve → close) over HTTP on a fresh database,
    /// SQLite and PostgreSQL: lifecycles/s, writes/s, p50/p99 per action vs. the bare database
    Lifecycle(lifecycle::LifecycleArgs),
    /// E-licences issued and verified per second on one core, Ed25519 and SM2, next to the bare
    /// signature rates
    Credentials(credentials::CredentialArgs),
    /// 1,000 people racing for one appointment slot of capacity 10 (SQLite; PostgreSQL with two
    /// processes), and nearest-hall queries per second
    Booking(booking::BookingArgs),
    /// Complaints: the classifier's accuracy on 304 labelled complaints (cold and 5-fold warm),
    /// and intake with routing per second on SQLite
    Complaints(complaints::ComplaintArgs),
    /// The data exchange: register import time, a batch read of the policies' fields over every
    /// enterprise (time and memory), single reads with grant check and logging over HTTP
    Exchange(exchange::ExchangeArgs),
    /// The 12 policies over the whole register in memory: evaluation time, load time, peak
    /// memory, and agreement with the reference evaluator
    Policies(policies::PoliciesArgs),
    /// Resident memory of `quanban serve`: idle on the reference data, idle on a year of a city's
    /// activity (1.3 M enterprises, 1 M cases, 300 k complaints, 200 k ratings), and peak while
    /// serving the lifecycle load on it
    Memory(memory::MemoryArgs),
    /// Department scorecards over a year of a city's activity (1 M cases, 300 k complaints,
    /// 200 k ratings) from the store, SQLite and PostgreSQL, and the ranking page's p50/p99
    Supervision(supervision::SupervisionArgs),
    /// All of the above with their defaults
    All(AllArgs),
}

#[derive(Args, Debug, Default)]
pub struct AllArgs {
    /// PostgreSQL server for the PostgreSQL figures (a scratch database is created and dropped)
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres: String,
}

/// Runs one benchmark command to its end on a new multi-threaded runtime (its own, so that its
/// async code is compiled in this crate and not in the binary).
pub fn main(command: BenchCommand) -> std::process::ExitCode {
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(command)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Startup(a) => startup::run(a).await,
        BenchCommand::Me(a) => load::run(a).await,
        BenchCommand::Audit(a) => audit::run(a).await,
        BenchCommand::Guide(a) => guide::run(a).await,
        BenchCommand::Lifecycle(a) => lifecycle::run(a).await,
        BenchCommand::Credentials(a) => credentials::run(a).await,
        BenchCommand::Booking(a) => booking::run(a).await,
        BenchCommand::Complaints(a) => complaints::run(a).await,
        BenchCommand::Exchange(a) => exchange::run(a).await,
        BenchCommand::Policies(a) => policies::run(a).await,
        BenchCommand::Memory(a) => memory::run(a).await,
        BenchCommand::Supervision(a) => supervision::run(a).await,
        BenchCommand::All(a) => {
            startup::run(startup::StartupArgs::default()).await?;
            credentials::run(credentials::CredentialArgs::default()).await?;
            load::run(load::LoadArgs::default()).await?;
            guide::run(guide::GuideArgs::default()).await?;
            complaints::run(complaints::ComplaintArgs::default()).await?;
            lifecycle::run(lifecycle::LifecycleArgs {
                postgres: a.postgres.clone(),
                ..lifecycle::LifecycleArgs::default()
            })
            .await?;
            audit::run(audit::AuditArgs { postgres: Some(a.postgres), ..audit::AuditArgs::default() }).await
        }
    }
}

/// GETs `url_for(connection, n)` with `token` from `connections` keep-alive clients for a
/// 2-second warm-up and then `measure`; returns the sorted latencies (µs) of the successful
/// answers in the measured time and the count of failures.
pub async fn drive_gets(
    connections: usize,
    measure: std::time::Duration,
    token: &str,
    url_for: std::sync::Arc<dyn Fn(usize, usize) -> String + Send + Sync>,
) -> anyhow::Result<(Vec<u64>, u64)> {
    use std::time::{Duration, Instant};
    let warmup = Duration::from_secs(2);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for connection in 0..connections.max(1) {
        // One client per task: one keep-alive connection each, like separate users.
        let client = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
        let (token, url_for) = (token.to_string(), url_for.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(20_000);
            let mut errors = 0u64;
            for n in 0.. {
                let t0 = Instant::now();
                if t0.duration_since(start) >= warmup + measure {
                    break;
                }
                let ok = match client.get(url_for(connection, n)).bearer_auth(&token).send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if t0.duration_since(start) >= warmup {
                    if ok {
                        latencies.push(t0.elapsed().as_micros() as u64);
                    } else {
                        errors += 1;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    all.sort_unstable();
    Ok((all, errors))
}

/// The q-quantile of sorted samples.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// A `quanban serve` child process on a fresh port, killed on drop.
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts this same binary with `serve` and waits for its "running at" line.
    pub async fn start(data: &std::path::Path) -> anyhow::Result<(ServerProcess, std::time::Duration)> {
        let started = std::time::Instant::now();
        let server = ServerProcess::start_with(data, None, &[]).await?;
        Ok((server, started.elapsed()))
    }

    /// Like [`ServerProcess::start`], on `database_url` when given, with extra environment.
    pub async fn start_with(
        data: &std::path::Path,
        database_url: Option<&str>,
        env: &[(&str, &str)],
    ) -> anyhow::Result<ServerProcess> {
        use tokio::io::AsyncBufReadExt;
        let exe = std::env::current_exe()?;
        let mut command = tokio::process::Command::new(exe);
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
            .envs(env.iter().copied())
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
                return Ok(ServerProcess { child, base });
            }
        }
        anyhow::bail!("server exited before it was ready")
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
