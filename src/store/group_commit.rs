//! Group commit for SQLite.
//!
//! SQLite has one writer at a time. Letting every request open its own write transaction means
//! either "database is locked" errors or one fsync per request. Instead a single task owns the
//! write connection: it takes every body waiting in its queue, runs them in one transaction, each
//! inside its own savepoint (so one failing body rolls back only itself), commits once (one fsync
//! for the whole group) and only then answers each caller. While one group is being fsynced the
//! next one queues up, so batching happens by itself under load and costs nothing when idle.

use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use super::{StoreError, StoreResult, WriteBody};

/// What the writer needs from a queued body: run it, then learn whether the group committed.
trait Job: Send {
    /// Runs the body; returns whether it succeeded (and so should be kept).
    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection) -> BoxFuture<'c, bool>;
    /// Sends the outcome to the caller once the group's commit is known.
    fn finish(self: Box<Self>, commit: Result<(), String>);
}

struct TypedJob<T> {
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

/// The single SQLite writer task.
pub struct GroupWriter {
    queue: mpsc::UnboundedSender<Msg>,
}

impl GroupWriter {
    pub fn start(conn: AnyConnection, max_group: usize) -> GroupWriter {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer_loop(conn, rx, max_group));
        GroupWriter { queue: tx }
    }

    pub async fn submit<T: Send + 'static>(&self, body: WriteBody<T>) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        let job = TypedJob { body: Some(body), outcome: None, reply };
        self.queue.send(Msg::Job(Box::new(job))).map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Lets queued writes finish, then stops the task.
    pub async fn shutdown(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Msg::Shutdown(done)).is_ok() {
            let _ = wait.await;
        }
    }
}

async fn writer_loop(mut conn: AnyConnection, mut rx: mpsc::UnboundedReceiver<Msg>, max: usize) {
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
            run_group(&mut conn, &mut group, &mut rx, max, &mut stop).await;
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
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    max: usize,
    stop: &mut Option<oneshot::Sender<()>>,
) {
    // Each control statement pair goes to SQLite as one call (one trip to sqlx's worker thread
    // instead of two): closing one body's savepoint and opening the next's happen together.
    let commit = async {
        exec(conn, "BEGIN IMMEDIATE; SAVEPOINT body").await?;
        let mut i = 0;
        loop {
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
    for job in group.drain(..) {
        job.finish(commit.clone());
    }
}

async fn exec(conn: &mut AnyConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(sql).execute(conn).await.map(|_| ())
}
