//! 接诉即办: the classifier's accuracy on a labelled set of citizens' complaints, and complaint
//! intake with routing per second.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use serde::Deserialize;

use quanban::complaints::domain::{self, Classifier, Example, Taxonomy};
use quanban::complaints::service::{self, IntakeRequest, Source};

/// 304 complaints written as citizens write them, 8 per category, each with the category a
/// dispatcher would choose.
const LABELLED: &str = include_str!("../../domain/src/complaints/eval_complaints.json");

#[derive(Args, Debug)]
pub struct ComplaintArgs {
    /// Concurrent intake clients
    #[arg(long, default_value_t = 16)]
    pub clients: usize,
    /// Seconds of intake
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
}

impl Default for ComplaintArgs {
    fn default() -> Self {
        ComplaintArgs { clients: 16, seconds: 10 }
    }
}

#[derive(Deserialize, Clone)]
struct Labelled {
    text: String,
    category: String,
    address: String,
}

fn labelled() -> anyhow::Result<Vec<Labelled>> {
    Ok(serde_json::from_str(LABELLED)?)
}

fn duties() -> anyhow::Result<HashMap<String, Vec<String>>> {
    let shipped = quanban::reference::data::RawFiles::SHIPPED.departments;
    Ok(domain::duties_of(&serde_json::from_str::<Vec<quanban::reference::data::Department>>(shipped)?))
}

/// (top-1 category, top-3 category, department) hits.
fn score(model: &Classifier, t: &Taxonomy, items: &[&Labelled]) -> (usize, usize, usize) {
    let mut hits = (0, 0, 0);
    for l in items {
        let s = model.classify(&l.text);
        if s.first().is_some_and(|x| x.category == l.category) {
            hits.0 += 1;
        }
        if s.iter().take(3).any(|x| x.category == l.category) {
            hits.1 += 1;
        }
        let dept = |c: &str| t.category(c).map(|x| x.department.clone());
        if s.first().and_then(|x| dept(&x.category)).is_some_and(|d| Some(d) == dept(&l.category)) {
            hits.2 += 1;
        }
    }
    hits
}

fn pct(n: usize, d: usize) -> String {
    format!("{:.1}%", n as f64 * 100.0 / d.max(1) as f64)
}

pub async fn run(args: ComplaintArgs) -> anyhow::Result<()> {
    sqlx::any::install_default_drivers();
    let taxonomy = service::default_taxonomy()?;
    let codes: Vec<String> = taxonomy.categories.iter().map(|c| c.code.clone()).collect();
    let set = labelled()?;
    let seed = domain::seed_examples(&taxonomy, &duties()?);
    println!("Complaint classifier: {} labelled complaints, {} categories", set.len(), codes.len());

    // Cold: only the taxonomy's keywords and the departments' duties (a city on day one).
    let started = Instant::now();
    let cold = Classifier::train(&codes, &seed);
    let train_ms = started.elapsed().as_secs_f64() * 1000.0;
    let all: Vec<&Labelled> = set.iter().collect();
    let (t1, t3, dept) = score(&cold, &taxonomy, &all);
    println!(
        "  cold (taxonomy, examples + duties, trained in {train_ms:.1} ms): top-1 {} · top-3 {} · department {}",
        pct(t1, all.len()),
        pct(t3, all.len()),
        pct(dept, all.len())
    );

    // Warm: 4 of 5 folds stand in for past routing; the fifth is classified.
    let (mut w1, mut w3, mut wd) = (0, 0, 0);
    for fold in 0..5 {
        let mut examples = seed.clone();
        examples.extend(set.iter().enumerate().filter(|(i, _)| i % 5 != fold).map(|(_, l)| Example {
            category: l.category.clone(),
            text: l.text.clone(),
            weight: 1.0,
        }));
        let model = Classifier::train(&codes, &examples);
        let test: Vec<&Labelled> =
            set.iter().enumerate().filter(|(i, _)| i % 5 == fold).map(|(_, l)| l).collect();
        let (a, b, c) = score(&model, &taxonomy, &test);
        (w1, w3, wd) = (w1 + a, w3 + b, wd + c);
    }
    println!(
        "  warm (5-fold: 4/5 as past routing):        top-1 {} · top-3 {} · department {}",
        pct(w1, set.len()),
        pct(w3, set.len()),
        pct(wd, set.len())
    );
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_secs(1) {
        for l in &set {
            std::hint::black_box(cold.classify(&l.text));
            n += 1;
        }
    }
    println!("  classification alone: {:.0}/s on one core", n as f64 / started.elapsed().as_secs_f64());

    // Intake with routing: validation, district from the location, classification, deadlines,
    // the write (complaint, history, audit) and the duplicate check, on a fresh SQLite database.
    let dir = super::startup::scratch_dir()?;
    let mut config = quanban::config::Config::load(None, Some(&dir))?;
    config.clock = Some(quanban::platform::clock::TEST_INSTANT.into());
    let state = quanban::app::AppState::open(config).await?;
    let count = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (state, count, failed, set) = (state.clone(), count.clone(), failed.clone(), set.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while Instant::now() < deadline {
                let l = &set[i % set.len()];
                // Spread over the city centre so that duplicates and districts are real work.
                let lat = 36.60 + (i % 97) as f64 * 0.002;
                let lon = 116.95 + (i % 89) as f64 * 0.003;
                let req = IntakeRequest {
                    description: l.text.clone(),
                    address: Some(l.address.clone()),
                    lat: Some(lat),
                    lon: Some(lon),
                    ..IntakeRequest::default()
                };
                match service::intake(&state, Source::Open311 { client: "bench".into() }, req).await {
                    Ok(_) => count.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
                i += args.clients;
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = count.load(Ordering::Relaxed);
    println!(
        "  intake with routing (SQLite, {} clients, {:.0} s): {n} complaints, {:.0}/s, {} failed",
        args.clients,
        secs,
        n as f64 / secs,
        failed.load(Ordering::Relaxed)
    );
    state.db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
