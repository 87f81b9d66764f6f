//! Computed figures (a period's scorecards, a dashboard) kept for a short while, so that a
//! dashboard watched by many does not sum a city's records for every view. An entry is used
//! while younger than the configured seconds by the one clock (`figures_cache_seconds`; 0 turns
//! it off, as the tests do, where every view must see the write before it). Pages say when
//! their figures were computed.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

struct Entry {
    at: DateTime<Utc>,
    value: Arc<dyn Any + Send + Sync>,
}

/// At most this many entries are kept (periods and scopes asked for); expired ones go first.
const MAX_ENTRIES: usize = 512;

#[derive(Default)]
pub struct FiguresCache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl FiguresCache {
    /// The value under `key` computed at most `ttl_seconds` before `now` (with when it was
    /// computed), or `compute`d now and kept. Two views missing at once both compute: the
    /// figures are the same, and nothing waits on a lock while the database is read.
    pub async fn get_or_compute<T, E, F>(
        &self,
        key: String,
        now: DateTime<Utc>,
        ttl_seconds: u32,
        compute: F,
    ) -> Result<(Arc<T>, DateTime<Utc>), E>
    where
        T: Send + Sync + 'static,
        F: Future<Output = Result<T, E>>,
    {
        let ttl = chrono::Duration::seconds(i64::from(ttl_seconds));
        if ttl_seconds > 0 {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = entries.get(&key)
                && now >= e.at
                && now - e.at < ttl
                && let Ok(v) = e.value.clone().downcast::<T>()
            {
                return Ok((v, e.at));
            }
        }
        let value = Arc::new(compute.await?);
        if ttl_seconds > 0 {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if entries.len() >= MAX_ENTRIES {
                entries.retain(|_, e| now >= e.at && now - e.at < ttl);
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
            }
            entries.insert(key, Entry { at: now, value: value.clone() });
        }
        Ok((value, now))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    async fn get(cache: &FiguresCache, now: &str, ttl: u32, value: i64) -> (i64, DateTime<Utc>) {
        let (v, computed) =
            cache.get_or_compute("k".into(), at(now), ttl, async { Ok::<_, ()>(value) }).await.unwrap();
        (*v, computed)
    }

    #[tokio::test]
    async fn kept_while_young_then_computed_again_and_never_with_zero_seconds() {
        let cache = FiguresCache::default();
        assert_eq!(get(&cache, "2026-12-07T10:00:00Z", 60, 1).await.0, 1);
        let (v, computed) = get(&cache, "2026-12-07T10:00:59Z", 60, 2).await;
        assert_eq!((v, computed), (1, at("2026-12-07T10:00:00Z")), "kept, with when it was computed");
        assert_eq!(get(&cache, "2026-12-07T10:01:00Z", 60, 3).await.0, 3, "60 s old: computed again");
        assert_eq!(get(&cache, "2026-12-07T09:00:00Z", 60, 4).await.0, 4, "a clock moved back computes");
        assert_eq!(get(&cache, "2026-12-07T09:00:01Z", 0, 5).await.0, 5, "0 seconds: never kept");
        // A failure is not kept.
        let failed = cache
            .get_or_compute("e".into(), at("2026-12-07T10:00:00Z"), 60, async { Err::<i64, _>("x") })
            .await;
        assert!(failed.is_err());
        let (v, _) = cache
            .get_or_compute("e".into(), at("2026-12-07T10:00:01Z"), 60, async { Ok::<_, ()>(7) })
            .await
            .unwrap();
        assert_eq!(*v, 7);
    }
}
