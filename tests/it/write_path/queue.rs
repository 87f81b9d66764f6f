//! The write queue is bounded on both databases: when every writer is busy and the queue is
//! full, one more write is refused at once with `Busy` (HTTP 503 with Retry-After) and changes
//! nothing, and every write that was taken in commits once the writers are free.

use std::sync::mpsc;
use std::time::Duration;

use quanban::store::{Db, DbOptions, StoreError, query};

/// A write body that says it has started, then waits until `release` is dropped or sent to,
/// holding its writer, and then inserts `id`.
fn holding(
    id: &'static str,
    started: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
) -> impl FnOnce(&mut dyn quanban::store::Tx) -> Result<(), StoreError> + Send + 'static {
    move |tx| {
        let _ = started.send(());
        let _ = release.recv_timeout(Duration::from_secs(30));
        query("INSERT INTO queue_probe (id) VALUES ($1)").bind(id).execute(tx)?;
        Ok(())
    }
}

async fn full_queue_is_refused(url: &str, writers: usize) {
    // Two connections: SQLite has its one writer thread, PostgreSQL two writer threads.
    let db = Db::connect(&DbOptions {
        url: url.to_string(),
        max_connections: 4,
        max_group: 1,
        max_queue: 1,
        clock: quanban::platform::clock::Clock::fixed(quanban::platform::clock::test_instant()),
    })
    .await
    .expect("connects");
    db.write(|tx| {
        query("CREATE TABLE queue_probe (id TEXT PRIMARY KEY)").execute(tx)?;
        Ok(())
    })
    .await
    .expect("table");

    // Occupy every writer, one at a time (a body waits in the queue until a writer takes it).
    let (started_tx, started) = mpsc::channel();
    let mut releases = Vec::new();
    let mut running = Vec::new();
    for id in ["held-1", "held-2", "held-3"].into_iter().take(writers) {
        let (release_tx, release) = mpsc::channel();
        releases.push(release_tx);
        let db = db.clone();
        let body = holding(id, started_tx.clone(), release);
        running.push(tokio::spawn(async move { db.write(body).await }));
        tokio::task::block_in_place(|| started.recv_timeout(Duration::from_secs(30)))
            .expect("a writer took the body");
    }

    // One more fits in the queue (polled once: it is queued, not yet run)…
    let (release_tx, release) = mpsc::channel();
    releases.push(release_tx);
    let queued = db.write(holding("queued", started_tx.clone(), release));
    tokio::pin!(queued);
    assert!(futures::poll!(&mut queued).is_pending());
    // …and the next is refused at once, having run nothing.
    let refused = db
        .write(|tx| {
            query("INSERT INTO queue_probe (id) VALUES ('refused')").execute(tx)?;
            Ok(())
        })
        .await;
    assert!(matches!(refused, Err(StoreError::Busy)), "{refused:?}");

    drop(releases);
    for r in running {
        r.await.unwrap().expect("a held write commits");
    }
    queued.await.expect("the queued write commits");
    let ids: Vec<String> = query("SELECT id FROM queue_probe ORDER BY id")
        .read_all(&db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("id").unwrap())
        .collect();
    let mut expected: Vec<String> =
        ["held-1", "held-2", "held-3"].into_iter().take(writers).map(String::from).collect();
    expected.push("queued".into());
    expected.sort();
    assert_eq!(ids, expected);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_queue_answers_busy() {
    let dir = tempfile::tempdir().unwrap();
    full_queue_is_refused(&format!("sqlite://{}/q.db", dir.path().display()), 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_postgres_queue_answers_busy() {
    let Some((url, _name)) = crate::common::fresh_pg_database().await else { return };
    // max_connections 4: two writer threads.
    full_queue_is_refused(&url, 2).await;
}
