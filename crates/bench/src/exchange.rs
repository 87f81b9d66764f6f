//! The data exchange: importing a register of N enterprises (the `import register` command as a
//! child process), a batch read of the fields the policies use with its grant check and its one
//! log entry (in this process, with resident memory), and single-record reads with grant check
//! and durable logging over HTTP against a `quanban serve` child on SQLite.

use std::time::{Duration, Instant};

use clap::Args;

use super::startup::scratch_dir;
use super::{ServerProcess, quantile};
use quanban::data::domain::{Dataset, Field, Register, datasets_of};
use quanban::data::sharing::Purpose;

#[derive(Args, Debug)]
pub struct ExchangeArgs {
    /// Enterprises in the register
    #[arg(long, default_value_t = 1_300_000)]
    pub enterprises: u64,
    /// Concurrent connections for the single reads
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Measured seconds of single reads (after a 2-second warm-up)
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Keep the data in this directory, and on a later run skip the import when it already holds
    /// the register (to measure reads again without loading again)
    #[arg(long)]
    pub data: Option<std::path::PathBuf>,
}

impl Default for ExchangeArgs {
    fn default() -> Self {
        ExchangeArgs { enterprises: 1_300_000, connections: 32, seconds: 10, data: None }
    }
}

/// Resident and peak resident memory of this process, in MB.
/// The enterprise fields the policies' rules read.
fn policy_fields() -> anyhow::Result<Vec<&'static str>> {
    Ok(quanban::policies::library::fields_used(&quanban::policies::library::shipped()?))
}

/// A SQLite data directory holding a generated register of `enterprises`: kept as it is when
/// `reuse` and it already has a database (`None`), else generated and imported with the
/// `import register` command (the time the import took).
pub async fn ensure_register(
    dir: &std::path::Path,
    enterprises: u64,
    reuse: bool,
) -> anyhow::Result<Option<std::time::Duration>> {
    if reuse && dir.join("quanban.db").exists() {
        return Ok(None);
    }
    let exe = std::env::current_exe()?;
    let file = dir.join("register.csv");
    let status = tokio::process::Command::new(&exe)
        .args(["generate", "register", "--enterprises", &enterprises.to_string(), "--out"])
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    anyhow::ensure!(status.success(), "generate failed");
    let started = Instant::now();
    let status = tokio::process::Command::new(&exe)
        .args(["import", "register"])
        .arg(&file)
        .arg("--data")
        .arg(dir)
        .env("QUANBAN_LOG", "warn")
        .env("QUANBAN_CLOCK", quanban::platform::clock::TEST_INSTANT)
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    anyhow::ensure!(status.success(), "import failed");
    let import = started.elapsed();
    let _ = std::fs::remove_file(&file);
    Ok(Some(import))
}

pub async fn run(args: ExchangeArgs) -> anyhow::Result<()> {
    let dir = match &args.data {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => scratch_dir()?,
    };
    let loaded = match ensure_register(&dir, args.enterprises, args.data.is_some()).await? {
        None => {
            println!("exchange import register: skipped, {} already holds the register", dir.display());
            true
        }
        Some(import) => {
            println!(
                "exchange import register: {} enterprises in {:.1} s ({:.0} rows/s), SQLite",
                args.enterprises,
                import.as_secs_f64(),
                args.enterprises as f64 / import.as_secs_f64()
            );
            false
        }
    };
    // In this process: grants, then the batch read of the policies' fields.
    let mut config = quanban::config::Config { data_dir: dir.clone(), ..quanban::config::Config::default() };
    config.clock = Some(quanban::platform::clock::TEST_INSTANT.to_string());
    config.log = "warn".into();
    let state = quanban::app::AppState::open(config).await?;
    let today = state.clock().today();
    if !loaded {
        quanban::data::service::grant_all_conditional(
            &state.db,
            "JN-FGW",
            Purpose::PolicyBenefit,
            today,
            "bench",
        )
        .await?;
        quanban::data::service::grant_all_conditional(
            &state.db,
            "JN-SPJ",
            Purpose::Statistics,
            today,
            "bench",
        )
        .await?;
    }
    let wanted = policy_fields()?;
    let reader = quanban::data::service::Reader {
        department: "JN-FGW".into(),
        actor: "job:bench".into(),
        actor_name: "benchmark".into(),
    };
    let (rss_before, _) = quanban::platform::memory::resident_mb();
    let started = Instant::now();
    let plan: Vec<(&'static Dataset, Vec<&'static Field>)> = datasets_of(Register::Enterprises)
        .map(|d| (d, d.fields.iter().filter(|f| wanted.contains(&f.name)).collect::<Vec<_>>()))
        .filter(|(_, fields)| !fields.is_empty())
        .collect();
    let held =
        quanban::data::service::read_batch(&state, &reader, &plan, Purpose::PolicyBenefit, Some("bench"))
            .await
            .map_err(|e| anyhow::anyhow!("batch read: {e:?}"))?;
    let records = held.keys.len();
    let batch = started.elapsed();
    let (rss_after, peak) = quanban::platform::memory::resident_mb();
    println!(
        "exchange batch read: {} fields of {} enterprises from {} datasets, grant check and one log entry each, in {:.2} s",
        wanted.len(),
        records,
        plan.len(),
        batch.as_secs_f64()
    );
    println!(
        "         resident {:.0} MB before, {:.0} MB holding the columns (+{:.0} MB), peak {:.0} MB (the process also holds the guide index and the classifiers)",
        rss_before,
        rss_after,
        rss_after - rss_before,
        peak
    );
    drop(held);
    // Keys for the single reads.
    let keys: Vec<String> = quanban::store::query("SELECT uscc FROM data_tax ORDER BY uscc LIMIT 20000")
        .read_all(&state.db)
        .await?
        .iter()
        .filter_map(|r| r.try_get("uscc").ok())
        .collect();
    let password = quanban::demo::list(&state.db, &state.vault)
        .await?
        .into_iter()
        .find(|a| a.username == "spj.clerk")
        .map(|a| a.password)
        .ok_or_else(|| anyhow::anyhow!("no demo clerk"))?;
    state.db.close().await;

    // Over HTTP: single reads by a clerk of 审批局 under its grant, each logged durably.
    let (server, _) = ServerProcess::start(&dir).await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "spj.clerk", "password": password}))
        .send()
        .await?
        .json()
        .await?;
    let token = token["token"].as_str().ok_or_else(|| anyhow::anyhow!("no token: {token}"))?.to_string();
    let measure = Duration::from_secs(args.seconds.max(1));
    let keys = std::sync::Arc::new(keys);
    let url_for = move |connection: usize, n: usize| {
        let key = &keys[(connection + 7 * n) % keys.len().max(1)];
        format!(
            "{base}/api/v1/data/exchange/tax/{key}?fields=revenue_last_year,tax_paid_last_year&purpose=statistics"
        )
    };
    let (all, errors) =
        super::drive_gets(args.connections, measure, &token, std::sync::Arc::new(url_for)).await?;
    server.stop().await;
    // Every answered read left its log row.
    let config = quanban::config::Config {
        data_dir: dir.clone(),
        log: "warn".into(),
        ..quanban::config::Config::default()
    };
    let state = quanban::app::AppState::open(config).await?;
    let logged: i64 =
        quanban::store::query("SELECT COUNT(*) AS n FROM data_access_log WHERE subject IS NOT NULL")
            .read_one(&state.db)
            .await?
            .try_get("n")?;
    state.db.close().await;
    if args.data.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "exchange single reads over HTTP (grant check + durable access log + audit entry), {} connections, {} s: {:.0} reads/s   p50 {:.2} ms   p99 {:.2} ms   errors {}   access log rows {}",
        args.connections,
        measure.as_secs(),
        all.len() as f64 / measure.as_secs_f64(),
        quantile(&all, 0.50) as f64 / 1000.0,
        quantile(&all, 0.99) as f64 / 1000.0,
        errors,
        logged
    );
    Ok(())
}
