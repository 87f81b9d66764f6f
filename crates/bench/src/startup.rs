//! Start-up to ready: spawn `quanban serve`, wait for "running at", confirm `/readyz` answers.

use std::time::Duration;

use clap::Args;

use super::ServerProcess;

#[derive(Args, Debug)]
pub struct StartupArgs {
    /// How many starts of each kind
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

impl Default for StartupArgs {
    fn default() -> Self {
        StartupArgs { runs: 5 }
    }
}

pub async fn run(args: StartupArgs) -> anyhow::Result<()> {
    let mut fresh = Vec::new();
    let mut warm = Vec::new();
    for _ in 0..args.runs.max(1) {
        let dir = scratch_dir()?;
        fresh.push(time_to_ready(&dir).await?);
        warm.push(time_to_ready(&dir).await?);
        let _ = std::fs::remove_dir_all(&dir);
    }
    report("fresh data directory (migrate + seed + demo accounts)", &mut fresh);
    report("restart on existing data", &mut warm);
    Ok(())
}

/// One more start on `dir`, timed from spawn to the first successful `/readyz`.
async fn time_to_ready(dir: &std::path::Path) -> anyhow::Result<Duration> {
    let (server, to_banner) = ServerProcess::start(dir).await?;
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    let ok = client.get(format!("{}/readyz", server.base)).send().await?.status().is_success();
    let total = to_banner + started.elapsed();
    server.stop().await;
    anyhow::ensure!(ok, "server not ready");
    Ok(total)
}

fn report(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    let median = ms.get(ms.len() / 2).copied().unwrap_or(0.0);
    let max = ms.last().copied().unwrap_or(0.0);
    println!("startup  {label:<55} median {median:7.1} ms   max {max:7.1} ms   (n={})", ms.len());
}

/// A new empty directory under the system temp dir.
pub fn scratch_dir() -> anyhow::Result<std::path::PathBuf> {
    let token = quanban::identity::session::random_token();
    let dir = std::env::temp_dir().join(format!("quanban-bench-{}", &token[..12]));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
