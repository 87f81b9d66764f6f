//! Guidance assistant search (人工+智能导引): from a colloquial question ("开个小饭馆要办什么")
//! to ranked service items and "one thing" bundles, a clarifying question when the query can be
//! read several ways (情景式导办), and a hand-off to a human agent when the machine is unsure.
//!
//! - [`engine`]: the in-memory tantivy index ([`GuideIndex`]) and the ranking;
//! - [`query`]: normalisation, filler stripping, synonyms and jieba segmentation;
//! - [`synonyms`]: the language data (fillers, colloquial map, hints, popular items);
//! - [`eval`]: the evaluation set and its scoring; [`synth`]: a large synthetic catalogue for the
//!   latency bench.

pub mod engine;
pub mod eval;
pub use quanban_domain::guide::intent;
pub use quanban_domain::guide::query;
pub use quanban_domain::guide::synonyms;
pub mod synth;

pub use engine::{
    CONFIDENCE_THRESHOLD, FollowUp, FollowUpOption, GuideAnswer, GuideError, GuideIndex, Hit, HitKind,
};
pub use eval::{
    EvalMiss, EvalQuery, EvalReport, EverydayQuery, evaluate, evaluate_everyday, everyday_queries,
    shipped_queries,
};
pub use synth::synthetic_catalog;

pub mod api;
pub mod pages;
pub mod store;

use std::sync::Arc;

use crate::app::AppState;
use crate::reference::data::Department;

/// The index a process serves from, with the catalog revision it was built from (None until the
/// first build).
pub type BuiltIndex = Option<(Arc<GuideIndex>, i64)>;

/// Builds the index from the catalog as it is in the database now. CPU-bound (jieba, tantivy),
/// so it runs on the blocking pool.
pub async fn build_from_db(state: &AppState) -> anyhow::Result<(Arc<GuideIndex>, i64)> {
    let revision = revision(state).await?;
    let items: Vec<_> =
        crate::catalog::store::all_active(&state.db).await?.into_iter().map(|s| s.item).collect();
    let bundles = crate::catalog::api::load_bundles(state).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let rows = sqlx::query("SELECT data FROM departments ORDER BY code").fetch_all(state.db.reader()).await?;
    let mut departments: Vec<Department> = Vec::with_capacity(rows.len());
    for r in rows {
        let data: String = sqlx::Row::try_get(&r, "data")?;
        departments.push(serde_json::from_str(&data)?);
    }
    let learned = store::learned(&state.db).await?;
    let index = tokio::task::spawn_blocking(move || {
        GuideIndex::build(&items, &bundles, &departments).map(|i| i.with_learned(&learned))
    })
    .await??;
    Ok((Arc::new(index), revision))
}

/// What the index is built from: the catalog's revision plus the number of questions officers
/// answered with items. Both only grow, so the sum changes whenever either does.
pub async fn revision(state: &AppState) -> anyhow::Result<i64> {
    let learned =
        crate::store::query("SELECT COUNT(*) AS n FROM guide_handoffs WHERE answer_items IS NOT NULL")
            .read_one(&state.db)
            .await?;
    let learned: i64 = learned.try_get("n")?;
    Ok(crate::catalog::store::revision(&state.db).await? + learned)
}

/// Keeps this process's index in step with the catalog and with what officers taught it:
/// rebuilt at once when this process changes either, and within `poll` when another process on
/// the same database does.
pub fn spawn_refresher(state: AppState, poll: std::time::Duration) {
    tokio::spawn(async move {
        loop {
            let built = state.guide.read().await.as_ref().map(|(_, rev)| *rev);
            let current = revision(&state).await.ok();
            if built.is_none() || current != built {
                match build_from_db(&state).await {
                    Ok((index, rev)) => *state.guide.write().await = Some((index, rev)),
                    Err(e) => tracing::warn!(error = %e, "building the guide index failed"),
                }
            }
            tokio::select! {
                _ = state.catalog_events.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    });
}
