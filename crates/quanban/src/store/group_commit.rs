//! Group commit for SQLite, on a writer thread that owns its connection.
//!
//! SQLite has one writer at a time. Letting every request open its own write transaction means
//! either "database is locked" errors or one fsync per request. Instead one OS thread owns the
//! write connection (`rusqlite`, prepared statements cached): it takes every body waiting in its
//! queue, runs them in one transaction, each inside its own savepoint (so one failing body rolls
//! back only itself), commits once (one fsync for the whole group) and only then answers each
//! caller. While one group is being fsynced the next one queues up, so batching happens by itself
//! under load and costs nothing when idle.
//!
//! Bodies are synchronous ([`super::sql::Tx`]), so a statement is a direct call into SQLite on
//! this thread. Before, the writer was a task and every statement went to sqlx's SQLite worker
//! thread and back: `perf` put 38 % of the server's CPU in those wake-ups. Now a request crosses
//! threads twice per write (queue in, answer out), not twice per statement.
//!
//! The queue is bounded: when `max_queue` writes are already waiting, one more is refused with
//! [`StoreError::Busy`] (HTTP 503 with Retry-After) instead of making everyone wait longer.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use tokio::sync::oneshot;

use super::sql::{SqliteTx, Tx, sqlite_error};
use super::{StoreError, StoreResult, WriteBody};

/// What the writer needs from a queued body: run it, then learn whether the group committed.
trait Job: Send {
    /// Runs the body; returns whether it succeeded (and so should be kept).
    fn run(&mut self, tx: &mut dyn Tx) -> bool;
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
    fn run(&mut self, tx: &mut dyn Tx) -> bool {
        let Some(body) = self.body.take() else { return false };
        // A panicking body must not take the writer (and every later write) down with it.
        let result = match std::panic::catch_unwind(AssertUnwindSafe(|| body(tx))) {
            Ok(result) => result,
            Err(_) => Err(StoreError::Invalid("internal error in a write".into())),
        };
        let ok = result.is_ok();
        self.outcome = Some(result);
        ok
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
    queue: mpsc::SyncSender<Msg>,
    counters: Arc<Counters>,
}

impl GroupWriter {
    /// Starts the writer thread, which owns `conn` from now on.
    pub fn start(
        conn: rusqlite::Connection,
        max_group: usize,
        max_queue: usize,
    ) -> std::io::Result<GroupWriter> {
        let (tx, rx) = mpsc::sync_channel(max_queue);
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, max_group, thread_counters))?;
        Ok(GroupWriter { queue: tx, counters })
    }

    pub async fn submit<T: Send + 'static>(&self, body: WriteBody<T>) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        let job = TypedJob { queued: Instant::now(), body: Some(body), outcome: None, reply };
        match self.queue.try_send(Msg::Job(Box::new(job))) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => {
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                return Err(StoreError::Busy);
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(StoreError::WriterGone),
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

    /// Lets queued writes finish, then stops the thread (closing the connection).
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        // A full queue is drained by the writer; waiting for room here never blocks for long.
        let queue = self.queue.clone();
        let sent = tokio::task::spawn_blocking(move || queue.send(Msg::Shutdown(done)).is_ok()).await;
        if matches!(sent, Ok(true)) {
            let _ = wait.await;
        }
    }
}

fn writer_loop(conn: rusqlite::Connection, rx: mpsc::Receiver<Msg>, max: usize, counters: Arc<Counters>) {
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(max);
    while let Ok(first) = rx.recv() {
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
            run_group(&conn, &mut group, &rx, max, &mut stop, &counters);
            counters.groups.fetch_add(1, Ordering::Relaxed);
            counters.group_us.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        }
        if let Some(done) = stop {
            let _ = done.send(());
            return;
        }
    }
}

fn run_group(
    conn: &rusqlite::Connection,
    group: &mut Vec<Box<dyn Job>>,
    rx: &mpsc::Receiver<Msg>,
    max: usize,
    stop: &mut Option<oneshot::Sender<()>>,
    counters: &Counters,
) {
    let commit = (|| {
        conn.execute_batch("BEGIN IMMEDIATE; SAVEPOINT body")?;
        let mut i = 0;
        loop {
            // Measured per body as it starts: bodies that join a running group waited too.
            let waited = group[i].queued().elapsed().as_micros() as u64;
            counters.queue_wait_us.fetch_add(waited, Ordering::Relaxed);
            let ok = group[i].run(&mut SqliteTx { conn });
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
            conn.execute_batch(sql)?;
            if last {
                return Ok::<(), rusqlite::Error>(());
            }
            i += 1;
        }
    })();
    let commit = commit.map_err(|e| {
        let e = sqlite_error(e);
        tracing::error!(error = %e, group.size = group.len(), "group commit failed");
        if !conn.is_autocommit() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        e.to_string()
    });
    counters.bodies.fetch_add(group.len() as u64, Ordering::Relaxed);
    for job in group.drain(..) {
        job.finish(commit.clone());
    }
}
