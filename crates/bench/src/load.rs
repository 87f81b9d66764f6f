//! Authenticated `GET /api/v1/me` under load: a `quanban serve` child process on SQLite, and
//! N concurrent keep-alive connections from this process for a fixed time.

use std::time::Duration;

use clap::Args;

use super::startup::scratch_dir;
use super::{ServerProcess, quantile};

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Concurrent connections
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Measured seconds (after a 2-second warm-up)
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

impl Default for LoadArgs {
    fn default() -> Self {
        LoadArgs { connections: 64, seconds: 10 }
    }
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let dir = scratch_dir()?;
    let (server, _) = ServerProcess::start(&dir).await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let id = quanban::demo::id_number("37010219900307555").ok_or_else(|| anyhow::anyhow!("id"))?;
    let reg = client
        .post(format!("{base}/api/v1/auth/register"))
        .json(&serde_json::json!({"name": "压测用户", "id_number": id, "phone": "13600000001", "password": "Bench-Mark-2026"}))
        .send()
        .await?;
    anyhow::ensure!(reg.status().is_success(), "register failed: {}", reg.status());
    let token: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&serde_json::json!({"username": "13600000001", "password": "Bench-Mark-2026"}))
        .send()
        .await?
        .json()
        .await?;
    let token = token["token"].as_str().ok_or_else(|| anyhow::anyhow!("no token"))?.to_string();

    let measure = Duration::from_secs(args.seconds.max(1));
    let url = format!("{base}/api/v1/me");
    let (all, errors) =
        super::drive_gets(args.connections, measure, &token, std::sync::Arc::new(move |_, _| url.clone()))
            .await?;
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
    let rps = all.len() as f64 / measure.as_secs_f64();
    println!(
        "me       GET /api/v1/me, {} connections, {} s: {:.0} req/s   p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms   errors {}",
        args.connections,
        measure.as_secs(),
        rps,
        quantile(&all, 0.50) as f64 / 1000.0,
        quantile(&all, 0.99) as f64 / 1000.0,
        all.last().copied().unwrap_or(0) as f64 / 1000.0,
        errors
    );
    println!(
        "         (server and load generator share this machine's {} cores)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    Ok(())
}
