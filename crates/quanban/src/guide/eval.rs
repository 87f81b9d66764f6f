//! The evaluation set (`eval_queries.json`) and how a [`GuideIndex`] scores on it.
//!
//! The queries were written before tuning, as citizens and business owners type them; those
//! marked `holdout` were written in a different style and never used for tuning, so their figure
//! is the honest estimate of accuracy on new questions.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::engine::GuideIndex;

/// One evaluation query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvalQuery {
    /// What the person types.
    pub q: String,
    /// Acceptable item or bundle codes; any one in the top 3 counts.
    pub expect: Vec<String>,
    /// Whether it belongs to the held-out part (not used for tuning).
    #[serde(default)]
    pub holdout: bool,
}

/// A query whose expected codes were not in the top 3.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalMiss {
    /// The query.
    pub q: String,
    /// What was expected.
    pub expect: Vec<String>,
    /// The top 3 codes returned.
    pub got: Vec<String>,
}

/// Accuracy and latency over a set of queries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// Number of queries.
    pub n: usize,
    /// Share with an expected code first (0..1).
    pub top1: f64,
    /// Share with an expected code in the top 3 (0..1).
    pub top3: f64,
    /// Median search time, microseconds.
    pub p50_us: u64,
    /// 99th percentile search time, microseconds.
    pub p99_us: u64,
    /// The queries that missed the top 3.
    pub misses: Vec<EvalMiss>,
}

/// The shipped evaluation set.
pub fn shipped_queries() -> Result<Vec<EvalQuery>, serde_json::Error> {
    serde_json::from_str(include_str!("eval_queries.json"))
}

/// One question of the everyday set, with the kind of question it is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EverydayQuery {
    pub q: String,
    pub expect: Vec<String>,
    /// `department` (one department's several items told apart), `complaint` (belongs with
    /// 12345) or `help` (needs someone in person: 帮办代办).
    pub group: String,
}

#[derive(Deserialize)]
struct EverydayFile {
    queries: Vec<EverydayQuery>,
}

/// The everyday set (`eval_everyday.json`): written apart from the synonyms and the first set,
/// never used for tuning (see its `note`).
pub fn everyday_queries() -> Result<Vec<EverydayQuery>, serde_json::Error> {
    serde_json::from_str::<EverydayFile>(include_str!("eval_everyday.json")).map(|f| f.queries)
}

/// The everyday set scored group by group: `(group, report)`, groups in file order.
pub fn evaluate_everyday(index: &GuideIndex, queries: &[EverydayQuery]) -> Vec<(String, EvalReport)> {
    let mut groups: Vec<String> = Vec::new();
    for q in queries {
        if !groups.contains(&q.group) {
            groups.push(q.group.clone());
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let set: Vec<EvalQuery> = queries
                .iter()
                .filter(|q| q.group == g)
                .map(|q| EvalQuery { q: q.q.clone(), expect: q.expect.clone(), holdout: true })
                .collect();
            let report = evaluate(index, &set);
            (g, report)
        })
        .collect()
}

/// The q-quantile of sorted samples (0 when empty).
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(idx.min(sorted.len() - 1)).copied().unwrap_or(0)
}

/// Runs every query once (on the calling thread) and reports accuracy and latency.
pub fn evaluate(index: &GuideIndex, queries: &[EvalQuery]) -> EvalReport {
    let mut top1 = 0usize;
    let mut top3 = 0usize;
    let mut times = Vec::with_capacity(queries.len());
    let mut misses = Vec::new();
    for q in queries {
        let start = Instant::now();
        let answer = index.search(&q.q, 10);
        times.push(start.elapsed().as_micros() as u64);
        let got: Vec<String> = answer.results.iter().take(3).map(|h| h.code.clone()).collect();
        if got.first().is_some_and(|c| q.expect.contains(c)) {
            top1 += 1;
        }
        if got.iter().any(|c| q.expect.contains(c)) {
            top3 += 1;
        } else {
            misses.push(EvalMiss { q: q.q.clone(), expect: q.expect.clone(), got });
        }
    }
    times.sort_unstable();
    let n = queries.len();
    let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
    EvalReport {
        n,
        top1: share(top1),
        top3: share(top3),
        p50_us: quantile(&times, 0.5),
        p99_us: quantile(&times, 0.99),
        misses,
    }
}
