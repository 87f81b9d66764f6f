//! PostgreSQL writes on writer threads that own their connections.
//!
//! Write bodies are synchronous ([`super::sql::Tx`]). Each writer thread owns one connection and
//! a single-threaded tokio runtime that only that connection uses, and runs one body at a time
//! in its own transaction: a statement is sent and the thread then waits in that runtime for the
//! answer, so the socket's readiness wakes the very thread that waits for it.
//!
//! Before, a body ran on a tokio blocking thread and each statement waited through the server
//! runtime's handle: the answer was seen by the runtime's I/O driver on a worker thread, which
//! then woke the blocking thread. `perf` on the lifecycle benchmark put a third of the server's
//! CPU in the scheduler (`finish_task_switch`, `_raw_spin_unlock_irqrestore`) for those
//! wake-ups: two context switches per statement, some forty statements per lifecycle.
//!
//! Many writers run at once (PostgreSQL has row locks, not one writer), so the threads share one
//! bounded queue: when `max_queue` writes are already waiting one more is refused with
//! [`StoreError::Busy`] (HTTP 503 with Retry-After), as on SQLite. A connection that fails with
//! an I/O or protocol error is dropped and the next body on that thread connects afresh.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use sqlx::AnyConnection;
use sqlx::any::AnyConnectOptions;
use sqlx::{ConnectOptions, Connection};
use tokio::sync::oneshot;

use super::sql::BlockingTx;
use super::{Backend, StoreError, StoreResult, WriteBody};

/// A queued write: run on a writer thread with its connection.
type Job = Box<dyn FnOnce(&mut Writer) + Send>;

enum Msg {
    Job(Job),
    Shutdown(oneshot::Sender<()>),
}

/// The pool of PostgreSQL writer threads.
pub struct PgWriters {
    queue: Sender<Msg>,
    threads: usize,
    refused: Arc<AtomicU64>,
}

impl PgWriters {
    /// Starts `threads` writer threads; each connects when its first body arrives.
    pub fn start(options: AnyConnectOptions, threads: usize, max_queue: usize) -> std::io::Result<PgWriters> {
        let threads = threads.max(1);
        let (queue, receiver) = crossbeam_channel::bounded(max_queue.max(1));
        for i in 0..threads {
            let receiver: Receiver<Msg> = receiver.clone();
            let options = options.clone();
            std::thread::Builder::new().name(format!("pg-writer-{i}")).spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!(error = %e, "PostgreSQL writer thread could not start its runtime");
                        return;
                    }
                };
                let mut writer = Writer { runtime, options, conn: None };
                while let Ok(msg) = receiver.recv() {
                    match msg {
                        Msg::Job(job) => job(&mut writer),
                        Msg::Shutdown(done) => {
                            writer.close();
                            let _ = done.send(());
                            return;
                        }
                    }
                }
                writer.close();
            })?;
        }
        Ok(PgWriters { queue, threads, refused: Arc::new(AtomicU64::new(0)) })
    }

    /// Runs `body` in its own transaction on a writer thread.
    pub async fn submit<T: Send + 'static>(&self, body: WriteBody<T>) -> StoreResult<T> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |writer: &mut Writer| {
            // The caller may have gone away (request cancelled); the write stands regardless.
            let _ = reply.send(writer.run(body));
        });
        match self.queue.try_send(Msg::Job(job)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return Err(StoreError::Busy);
            }
            Err(TrySendError::Disconnected(_)) => return Err(StoreError::WriterGone),
        }
        answer.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Lets the queued writes finish, then closes every writer's connection.
    pub async fn shutdown(&self) {
        let mut waits = Vec::with_capacity(self.threads);
        for _ in 0..self.threads {
            let (done, wait) = oneshot::channel();
            if self.queue.send(Msg::Shutdown(done)).is_ok() {
                waits.push(wait);
            }
        }
        for wait in waits {
            let _ = wait.await;
        }
    }
}

/// One writer thread's runtime and connection.
struct Writer {
    runtime: tokio::runtime::Runtime,
    options: AnyConnectOptions,
    conn: Option<AnyConnection>,
}

impl Writer {
    fn run<T>(&mut self, body: WriteBody<T>) -> StoreResult<T> {
        let Writer { runtime, options, conn } = self;
        let connection = match conn {
            Some(c) => c,
            None => conn.insert(runtime.block_on(options.connect())?),
        };
        let (outcome, healthy) = Self::transaction(runtime, connection, body);
        let healthy = healthy && !matches!(&outcome, Err(StoreError::Database(e)) if broken(e));
        if !healthy {
            // Whatever state the session is in, a fresh connection is the safe next step.
            *conn = None;
        }
        outcome.map_err(StoreError::or_conflict)
    }

    fn transaction<T>(
        runtime: &tokio::runtime::Runtime,
        conn: &mut AnyConnection,
        body: WriteBody<T>,
    ) -> (StoreResult<T>, bool) {
        let mut tx = match runtime.block_on(conn.begin()) {
            Ok(tx) => tx,
            Err(e) => return (Err(e.into()), false),
        };
        // A panicking body must not take the thread (and its later writes) down with it.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            body(&mut BlockingTx { conn: &mut tx, runtime, backend: Backend::Postgres })
        }))
        .unwrap_or_else(|_| Err(StoreError::Invalid("internal error in a write".into())));
        match result {
            Ok(v) => match runtime.block_on(tx.commit()) {
                Ok(()) => (Ok(v), true),
                Err(e) => {
                    let healthy = !broken(&e);
                    (Err(e.into()), healthy)
                }
            },
            // The body's error is the answer; a failed rollback only means a new connection.
            Err(e) => {
                let healthy = runtime.block_on(tx.rollback()).is_ok();
                (Err(e), healthy)
            }
        }
    }

    fn close(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = self.runtime.block_on(conn.close());
        }
    }
}

/// Errors after which the connection cannot be trusted.
fn broken(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed
    )
}
