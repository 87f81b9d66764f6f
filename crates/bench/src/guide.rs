//! `quanban bench guide`: guidance search build time, accuracy on the evaluation set and query
//! latency, on the shipped catalogue and on a large synthetic one. Prints figures, asserts nothing.

use std::time::{Duration, Instant};

use quanban::guide::{EvalReport, GuideIndex, evaluate, shipped_queries, synthetic_catalog};
use quanban::reference::data::shipped;

/// Options for the guidance bench.
#[derive(clap::Args, Debug)]
pub struct GuideArgs {
    /// Size of the synthetic catalogue for the large-catalogue figures
    #[arg(long, default_value_t = 20000)]
    pub items: usize,
}

impl Default for GuideArgs {
    fn default() -> Self {
        GuideArgs { items: 20000 }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn line(label: &str, r: &EvalReport) {
    println!(
        "guide    {label:<28} n={:<4} top1={:.1}%  top3={:.1}%  p50={}us  p99={}us",
        r.n,
        r.top1 * 100.0,
        r.top3 * 100.0,
        r.p50_us,
        r.p99_us
    );
}

/// Runs the bench on the current thread (search is single-threaded per query; "warm" means each
/// set is run once before it is measured).
pub async fn run(args: GuideArgs) -> anyhow::Result<()> {
    let data = shipped()?;
    let queries = shipped_queries()?;
    let holdout: Vec<_> = queries.iter().filter(|q| q.holdout).cloned().collect();
    let tuning: Vec<_> = queries.iter().filter(|q| !q.holdout).cloned().collect();

    let start = Instant::now();
    let index = GuideIndex::build(&data.catalog.items, &data.bundles, &data.departments)?;
    println!(
        "guide    build shipped catalogue         {} items + {} bundles in {:.1} ms",
        data.catalog.items.len(),
        data.bundles.len(),
        ms(start.elapsed())
    );
    let _warm = evaluate(&index, &queries);
    line("shipped, all queries", &evaluate(&index, &queries));
    line("shipped, tuning part", &evaluate(&index, &tuning));
    line("shipped, holdout part", &evaluate(&index, &holdout));
    for (group, report) in
        quanban::guide::eval::evaluate_everyday(&index, &quanban::guide::eval::everyday_queries()?)
    {
        line(&format!("everyday, {group}"), &report);
    }

    let items = synthetic_catalog(args.items, 42);
    let start = Instant::now();
    let big = GuideIndex::build(&items, &data.bundles, &data.departments)?;
    println!(
        "guide    build synthetic catalogue       {} items + {} bundles in {:.1} ms",
        items.len(),
        data.bundles.len(),
        ms(start.elapsed())
    );
    let _warm = evaluate(&big, &queries);
    line(&format!("{} items, all queries", args.items), &evaluate(&big, &queries));
    line(&format!("{} items, holdout part", args.items), &evaluate(&big, &holdout));
    Ok(())
}
