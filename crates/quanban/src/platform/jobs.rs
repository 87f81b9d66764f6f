//! Periodic jobs, all in one place, each with a lease.
//!
//! Several `serve` processes may share one PostgreSQL database. Work that belongs to the
//! database (sending the outbox, applying due catalog changes, audit checkpoints, purging
//! sessions, the proactive cluster scan) must then be done by one of them per run: before each
//! run a process takes the job's lease row for a while; another process finds it held and skips
//! the run. The holder renews it on its next run, so the job stays with one process while it
//! lives and moves to another within one lease time after it dies.
//!
//! Work on a process's own memory (reloading the calendar, retraining the classifier, the
//! guide's index) is done by every process and takes no lease.

use std::sync::LazyLock;
use std::time::Duration;

use crate::store::{Db, StoreResult, query, time_text};

/// The jobs that run against the database, one run at a time across processes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Sends queued SMS and e-mail (the outbox) to the gateway.
    OutboxDispatch,
    /// Approved catalog changes whose date has come take effect.
    CatalogApply,
    /// Records a checkpoint of every audit stream's head.
    AuditCheckpoint,
    /// Deletes expired sessions.
    SessionPurge,
    /// 未诉先办: finds clusters of similar complaints and raises tasks.
    ProactiveScan,
    /// 电子监察: raises cases that turned yellow or red, once each.
    MonitoringSweep,
    /// Recomputes the assessment's day sums that changes have made stale, so that a reader
    /// finds little left to do.
    FiguresRefresh,
}

impl Job {
    pub const ALL: [Job; 7] = [
        Job::OutboxDispatch,
        Job::CatalogApply,
        Job::AuditCheckpoint,
        Job::SessionPurge,
        Job::ProactiveScan,
        Job::MonitoringSweep,
        Job::FiguresRefresh,
    ];

    /// The lease row's name.
    pub fn name(self) -> &'static str {
        match self {
            Job::OutboxDispatch => "job:outbox_dispatch",
            Job::CatalogApply => "job:catalog_apply",
            Job::AuditCheckpoint => "job:audit_checkpoint",
            Job::SessionPurge => "job:session_purge",
            Job::ProactiveScan => "job:proactive_scan",
            Job::MonitoringSweep => "job:monitoring_sweep",
            Job::FiguresRefresh => "job:figures_refresh",
        }
    }
}

/// This process, as a lease holder.
pub fn this_process() -> &'static str {
    static ID: LazyLock<String> =
        LazyLock::new(|| format!("{}:{}", std::process::id(), crate::identity::store::new_user_id()));
    &ID
}

/// Takes (or renews) `job`'s lease for `holder` until `ttl` from now: `true` when this holder
/// may run the job now. The lease is free when nobody holds it, when it ran out, or when this
/// holder already has it.
pub async fn take_lease(db: &Db, job: Job, holder: &str, ttl: Duration) -> StoreResult<bool> {
    take_named_lease(db, job.name(), holder, ttl).await
}

/// [`take_lease`] for work named at run time (one policy's 免申即享 run: `policy_run:<code>`).
pub async fn take_named_lease(db: &Db, name: &str, holder: &str, ttl: Duration) -> StoreResult<bool> {
    let now = db.now();
    let until = time_text(now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::seconds(60)));
    let now = time_text(now);
    let (name, holder) = (name.to_string(), holder.to_string());
    db.write(move |conn| {

            let taken = query(
                "INSERT INTO job_leases (name, holder, until, runs, version) VALUES ($1, $2, $3, 1, 1) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until, \
                 runs = job_leases.runs + 1, version = job_leases.version + 1 \
                 WHERE job_leases.holder IS NULL OR job_leases.until <= $4 OR job_leases.holder = excluded.holder",
            )
            .bind(&name)
            .bind(&holder)
            .bind(&until)
            .bind(&now)
            .execute(&mut *conn)?;
            Ok(taken.rows_affected() == 1)

    })
    .await
}

/// Gives up every lease `holder` has (a process shutting down), so that another process takes
/// the jobs over at its next tick instead of after the lease time. A killed process cannot do
/// this; its leases run out.
pub async fn release_all(db: &Db, holder: &str) -> StoreResult<u64> {
    let holder = holder.to_string();
    db.write(move |conn| {
        let done = query("UPDATE job_leases SET holder = NULL, until = NULL WHERE holder = $1")
            .bind(&holder)
            .execute(&mut *conn)?;
        Ok(done.rows_affected())
    })
    .await
}

/// Gives up the lease `name` if `holder` has it.
pub async fn release_named(db: &Db, name: &str, holder: &str) -> StoreResult<()> {
    let (name, holder) = (name.to_string(), holder.to_string());
    db.write(move |conn| {
        query("UPDATE job_leases SET holder = NULL, until = NULL WHERE name = $1 AND holder = $2")
            .bind(&name)
            .bind(&holder)
            .execute(&mut *conn)?;
        Ok(())
    })
    .await
}

/// Runs `run` every `every` for as long as the process lives, each time only if this process
/// gets the job's lease (held for three periods, so a live holder keeps it).
pub fn spawn<F, Fut>(db: Db, job: Job, every: Duration, mut run: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match take_lease(&db, job, this_process(), every * 3).await {
                Ok(true) => {
                    if let Err(e) = run().await {
                        tracing::warn!(job = job.name(), error = %e, "periodic job failed");
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!(job = job.name(), error = %e, "taking a job lease failed"),
            }
        }
    });
}
