//! Evaluating policies over the whole register in memory, writing nothing: what
//! `quanban policies evaluate` prints and `quanban bench policies` measures.

use std::time::{Duration, Instant};

use super::columnar::{self, Register};
use super::library::{Policy, Totals, fields_used, totals};
use crate::data::domain::{Field, Register as RegisterKind, datasets_of};
use crate::data::store::{Columns, read_columns};
use crate::store::Db;

/// The register's columns that `policies` read, from the store (every dataset in parallel).
pub async fn load(db: &Db, policies: &[Policy]) -> anyhow::Result<Columns> {
    let used = fields_used(policies);
    let plan: Vec<(&'static crate::data::domain::Dataset, Vec<&'static Field>)> =
        datasets_of(RegisterKind::Enterprises)
            .map(|d| (d, d.fields.iter().filter(|f| used.contains(&f.name)).collect::<Vec<_>>()))
            .filter(|(_, fields)| !fields.is_empty())
            .collect();
    Ok(read_columns(db, &plan).await?)
}

/// Every policy's totals over the register, and the time the evaluation took.
pub fn evaluate(policies: &[Policy], register: &Register<'_>) -> (Vec<Totals>, Duration) {
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, policies.len().max(1));
    let mut results: Vec<Option<Totals>> = vec![None; policies.len()];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    policies
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % threads == t)
                        .map(|(i, p)| {
                            (i, totals(&columnar::evaluate(&p.eligibility, &p.amount, p.cap_fen, register)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (i, t) in h.join().unwrap_or_default() {
                results[i] = Some(t);
            }
        }
    });
    (results.into_iter().map(Option::unwrap_or_default).collect(), started.elapsed())
}
