//! Evaluating policies over the whole register in memory, writing nothing: what
//! `quanban policies evaluate` prints and `quanban bench policies` measures.

use std::time::{Duration, Instant};

use super::columnar::{self, Program, Register};
use super::library::{Policy, Totals, fields_used};
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
    let programs: Vec<Program<'_>> = policies
        .iter()
        .map(|p| Program { eligibility: &p.eligibility, amount: &p.amount, cap_fen: p.cap_fen })
        .collect();
    let per_thread = columnar::run(
        &programs,
        register,
        || vec![Totals::default(); programs.len()],
        |totals: &mut Vec<Totals>, policy, _, outcome| totals[policy].add(outcome),
    );
    let mut all = vec![Totals { evaluated: register.len() as u64, ..Totals::default() }; programs.len()];
    for part in per_thread {
        for (total, t) in all.iter_mut().zip(part) {
            total.eligible += t.eligible;
            total.amount_fen += t.amount_fen;
            total.faults += t.faults;
        }
    }
    (all, started.elapsed())
}
