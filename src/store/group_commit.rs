//! Group commit for SQLite.
//!
//! SQLite has one writer at a time. Letting every request open its own write transaction means
//! either "database is locked" errors or one fsync per request. Instead a single task owns the
//! write connection: it takes every body waiting in its queue, runs them in one transaction, each
//! inside its own savepoint (so one failing body rolls back only itself), commits once (one fsync
//! for the whole group) and only then answers each caller. While one group is being fsynced the
//! next one queues up, so batching happens by itself under load and costs nothing when idle.
//!
//! The writer is a task on the shared runtime. Running it on its own OS thread with a
//! single-threaded runtime was measured (`quanban bench lifecycle`, 2 cores, 64 clients): 414–431
//! lifecycles/s against 461–480 here, because every answer then wakes a request task from outside
//! the runtime instead of every statement waking the writer; the hop per statement to sqlx's
//! SQLite thread is what costs, and only a synchronous writer that owns its connection removes it.
//!
//! The queue is bounded: when `max_queue` writes are already waiting, one more is refused with
//! [`StoreError::Busy`] (HTTP 503 with Retry-After) instead of making everyone wait longer.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult, WriteBody};

/// What the writer needs from a queued body: run it, then learn whether the group committed.
trait Job: Send {
    /// Runs the body; returns whether it succeeded (and so should be kept).
    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection) -> BoxFuture<'c, bool>;
    /// When the caller queued it.
    fn queued(&self) -> Instant;
    /// Sends the outcome to the caller once the group's commit is known.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

struct TypedJob<T> {
    queued: Instant,
    body: Option<WriteBody<T>>,
    outcome: Option<StoreResult<T>>,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<T: Send + 'static> Job for TypedJob<T> {
    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let Some(body) = self.body.take() else { return false };
            // A panicking body must not take the writer (and every later write) down with it.
            let result = match AssertUnwindSafe(body(conn)).catch_unwind().await {
                Ok(result) => result,
                Err(_) => Err(StoreError::Invalid("internal error in a write".into())),
            };
            let ok = result.is_ok();
            self.outcome = Some(result);
            ok
        })
    }

    fn queued(&self) -> Instant {
        self.queued
    }

    fn finish(self: Box<Self>, commit: Result<(), String>) {
        let answer = match (commit, self.outcome) {
            (_, Some(Err(e))) => Err(e),
            (Ok(()), Some(Ok(v))) => Ok(v),
            (Err(msg), Some(Ok(_))) => {
                Err(StoreError::Database(sqlx::Error::Protocol(format!("commit failed: {msg}"))))
            }
            (_, None) => Err(StoreError::WriterGone),
        };
        // The caller may have gone away (request cancelled); the write stands regardless.
        let _ = self.reply.send(answer);
    }
}

enum Msg {
    Job(Box<dyn Job>),
    Shutdown(oneshot::Sender<()>),
}

/// What the writer has done so far, for the benchmarks and `/metrics`-style reports.
#[derive(Clone, Copy, Debug, Default)]
pub struct WriterStats {
    pub groups: u64,
    pub bodies: u64,
    /// Sum of the time bodies waited from being queued until they started to run, in µs.
    pub queue_wait_us: u64,
    /// Sum of the time groups took from `BEGIN` to the end of `COMMIT` (fsync included), in µs.
    pub group_us: u64,
    /// Writes refused because the queue was full.
    pub refused: u64,
}

#[derive(Default)]
struct Counters {
    groups: AtomicU64,
    bodies: AtomicU64,
    queue_wait_us: AtomicU64,
    group_us: AtomicU64,
    refused: AtomicU64,
}

/// The single SQLite writer.
pub struct GroupWriter {
    queue: mpsc::Sender<Msg>,
    counters: Arc<Counters>,
}

impl GroupWriter {
    /// Starts the writer task, which owns `conn` from now on.
    pub fn start(conn: AnyConnection, max_group: usize, max_queue: usize) -> GroupWriter {
        let (tx, rx) = mpsc::channel(max_queue);
        let counters = Arc::new(Counters::default());
        tokio::spawn(writer_loop(conn, rx, max_group, counters.clone()));
        GroupWriter { queue: tx, counters }
    }

    pub async fn submit<T: Send + 'static>(&self, body: WriteBody<T>) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        let job = TypedJob { queued: Instant::now(), body: Some(body), outcome: None, reply };
        match self.queue.try_send(Msg::Job(Box::new(job))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                return Err(StoreError::Busy);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return Err(StoreError::WriterGone),
        }
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    pub fn stats(&self) -> WriterStats {
        let c = &self.counters;
        WriterStats {
            groups: c.groups.load(Ordering::Relaxed),
            bodies: c.bodies.load(Ordering::Relaxed),
            queue_wait_us: c.queue_wait_us.load(Ordering::Relaxed),
            group_us: c.group_us.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
        }
    }

    /// Lets queued writes finish, then stops the task.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Msg::Shutdown(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn writer_loop(
    mut conn: AnyConnection,
    mut rx: mpsc::Receiver<Msg>,
    max: usize,
    counters: Arc<Counters>,
) {
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(max);
    while let Some(first) = rx.recv().await {
        let mut stop = None;
        match first {
            Msg::Job(job) => group.push(job),
            Msg::Shutdown(done) => stop = Some(done),
        }
        while stop.is_none() && group.len() < max {
            match rx.try_recv() {
                Ok(Msg::Job(job)) => group.push(job),
                Ok(Msg::Shutdown(done)) => stop = Some(done),
                Err(_) => break,
            }
        }
        if !group.is_empty() {
            let started = Instant::now();
            run_group(&mut conn, &mut group, &mut rx, max, &mut stop, &counters).await;
            counters.groups.fetch_add(1, Ordering::Relaxed);
            counters.group_us.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
        if let Some(done) = stop {
            let _ = done.send(());
            return;
        }
    }
}

async fn run_group(
    conn: &mut AnyConnection,
    group: &mut Vec<Box<dyn Job>>,
    rx: &mut mpsc::Receiver<Msg>,
    max: usize,
    stop: &mut Option<oneshot::Sender<()>>,
    counters: &Counters,
) {
    // Each control statement pair goes to SQLite as one call (one trip to sqlx's worker thread
    // instead of two): closing one body's savepoint and opening the next's happen together.
    let commit = async {
        exec(conn, "BEGIN IMMEDIATE; SAVEPOINT body").await?;
        let mut i = 0;
        loop {
            // Measured per body as it starts: bodies that join a running group waited too.
            let waited = group[i].queued().elapsed().as_micros() as u64;
            counters.queue_wait_us.fetch_add(waited, Ordering::Relaxed);
            let ok = group[i].run(conn).await;
            // Writes that arrived meanwhile join this transaction, so that one fsync serves them
            // all instead of each waiting for the next group.
            while stop.is_none() && group.len() < max {
                match rx.try_recv() {
                    Ok(Msg::Job(job)) => group.push(job),
                    Ok(Msg::Shutdown(done)) => *stop = Some(done),
                    Err(_) => break,
                }
            }
            let last = i + 1 == group.len();
            let sql = match (ok, last) {
                (true, false) => "RELEASE body; SAVEPOINT body",
                (true, true) => "RELEASE body; COMMIT",
                (false, false) => "ROLLBACK TO body; RELEASE body; SAVEPOINT body",
                (false, true) => "ROLLBACK TO body; RELEASE body; COMMIT",
            };
            exec(conn, sql).await?;
            if last {
                return Ok::<(), sqlx::Error>(());
            }
            i += 1;
        }
    }
    .await;
    if let Err(e) = &commit {
        tracing::error!(error = %e, group.size = group.len(), "group commit failed");
        let _ = exec(conn, "ROLLBACK").await;
    }
    let commit = commit.map_err(|e| e.to_string());
    counters.bodies.fetch_add(group.len() as u64, Ordering::Relaxed);
    for job in group.drain(..) {
        job.finish(commit.clone());
    }
}

async fn exec(conn: &mut AnyConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(conn).await.map(|_| ())
}
