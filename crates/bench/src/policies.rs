//! The policies over the whole register in memory: the 12 shipped policies (24 rules) evaluated
//! column-wise over N enterprises, the time of the evaluation alone and of loading the register
//! from the store, peak resident memory, and whether every eligible count and total equals the
//! reference evaluator's (one enterprise at a time) on the same register.

use std::time::Instant;

use clap::Args;

use super::exchange::ensure_register;
use super::startup::scratch_dir;
use quanban::policies::columnar::Register;
use quanban::policies::library::{Totals, totals};
use quanban::policies::{eval, evaluate, library};
use quanban::store::{Db, DbOptions};

#[derive(Args, Debug)]
pub struct PoliciesArgs {
    /// Enterprises in the register
    #[arg(long, default_value_t = 1_300_000)]
    pub enterprises: u64,
    /// Evaluations timed (the best and the median are printed)
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Keep the data in this directory, and on a later run skip the import when it already holds
    /// the register (the same directory as `bench exchange --data` serves)
    #[arg(long)]
    pub data: Option<std::path::PathBuf>,
}

impl Default for PoliciesArgs {
    fn default() -> Self {
        PoliciesArgs { enterprises: 1_300_000, rounds: 5, data: None }
    }
}

pub async fn run(args: PoliciesArgs) -> anyhow::Result<()> {
    let dir = match &args.data {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => scratch_dir()?,
    };
    if let Some(import) = ensure_register(&dir, args.enterprises, args.data.is_some()).await? {
        println!(
            "policies: register of {} enterprises imported in {:.1} s",
            args.enterprises,
            import.as_secs_f64()
        );
    }
    let policies = library::shipped()?;
    let db = Db::connect(&DbOptions {
        url: format!("sqlite://{}", dir.join("quanban.db").display()),
        max_connections: 8,
        max_group: 256,
        max_queue: quanban::store::DEFAULT_WRITE_QUEUE,
        clock: crate::bench_clock(),
    })
    .await?;
    let (before, _) = quanban::platform::memory::resident_mb();
    let started = Instant::now();
    let columns = evaluate::load(&db, &policies).await?;
    let load = started.elapsed();
    db.close().await;
    let register = Register::from_columns(&columns);
    let mut times = Vec::new();
    let mut fast: Vec<Totals> = Vec::new();
    for _ in 0..args.rounds.max(1) {
        let (t, took) = evaluate::evaluate(&policies, &register);
        times.push(took.as_secs_f64());
        fast = t;
    }
    let (after, peak) = quanban::platform::memory::resident_mb();
    times.sort_by(f64::total_cmp);
    let eligible: u64 = fast.iter().map(|t| t.eligible).sum();
    println!(
        "policies evaluate: {} policies ({} rules) over {} enterprises, column-wise on {} threads: best {:.3} s, median {:.3} s ({} eligible in all)",
        policies.len(),
        policies.len() * 2,
        register.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        times[0],
        times[times.len() / 2],
        eligible
    );
    println!(
        "         register loaded from the store in {:.2} s; resident {before:.0} MB before, {after:.0} MB after, peak {peak:.0} MB",
        load.as_secs_f64()
    );
    // The reference: one enterprise at a time.
    let started = Instant::now();
    let reference: Vec<Totals> = policies
        .iter()
        .map(|p| {
            let outcomes: Vec<eval::Outcome> = (0..register.len())
                .map(|i| eval::outcome(&p.eligibility, &p.amount, p.cap_fen, &register.record(i)))
                .collect();
            totals(&outcomes)
        })
        .collect();
    let differ: Vec<&str> = policies
        .iter()
        .zip(fast.iter().zip(&reference))
        .filter(|(_, (a, b))| a != b)
        .map(|(p, _)| p.code.as_str())
        .collect();
    println!(
        "         reference evaluator (record by record) in {:.2} s: eligible counts and totals {}",
        started.elapsed().as_secs_f64(),
        if differ.is_empty() {
            "identical for every policy".to_string()
        } else {
            format!("DIFFER for {}", differ.join(", "))
        }
    );
    anyhow::ensure!(differ.is_empty(), "the column-wise evaluator disagrees with the reference");
    drop(register);
    drop(columns);
    recorded_runs(&dir).await
}

/// The recorded 免申即享 runs of every automatic policy from the store (through the exchange,
/// explanations and notifications included), first on a store with no benefits, then again
/// (nothing changed: nothing written). The clock is set inside every policy's window.
async fn recorded_runs(dir: &std::path::Path) -> anyhow::Result<()> {
    use quanban::policies::service::{self, Progress};
    struct Quiet;
    impl Progress for Quiet {
        fn phase(&mut self, _: &str, _: u64) {}
        fn advance(&mut self, _: u64) {}
    }
    let mut config =
        quanban::config::Config { data_dir: dir.to_path_buf(), ..quanban::config::Config::default() };
    config.clock = Some("2026-09-01T10:00:00+08:00".to_string());
    config.log = "warn".into();
    let state = quanban::app::AppState::open(config).await?;
    // The bench's own store: start from no benefits.
    state
        .db
        .write(|tx| {
            for table in ["policy_payments", "policy_benefits", "policy_runs"] {
                quanban::store::query(format!("DELETE FROM {table}")).execute(&mut *tx)?;
            }
            Ok(())
        })
        .await?;
    let automatic: Vec<String> = library::shipped()?
        .into_iter()
        .filter(|p| p.mode == library::Mode::Automatic)
        .map(|p| p.code)
        .collect();
    for round in ["first run", "second run (nothing changed)"] {
        let started = Instant::now();
        let mut recorded = 0;
        let mut lines = Vec::new();
        for code in &automatic {
            let cancel = std::sync::atomic::AtomicBool::new(false);
            let s = service::run(&state, code, "job:bench", &cancel, &mut Quiet)
                .await
                .map_err(|e| anyhow::anyhow!("{code}: {e:?}"))?;
            anyhow::ensure!(s.reconciliation.adds_up(), "{code}: the books do not add up");
            recorded += s.run.eligible + s.run.faults;
            lines.push(format!(
                "{code} {} eligible in {:.2} s (register read {:.2} s)",
                s.run.eligible, s.seconds, s.read_seconds
            ));
        }
        let (_, peak) = quanban::platform::memory::resident_mb();
        println!(
            "policies run, {round}: {} automatic policies in {:.2} s, {recorded} benefits recorded, peak resident {peak:.0} MB",
            automatic.len(),
            started.elapsed().as_secs_f64()
        );
        for l in lines {
            println!("         {l}");
        }
    }
    state.db.close().await;
    Ok(())
}
