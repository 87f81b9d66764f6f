//! Periodic jobs' leases, on both databases: one holder at a time, renewed by its holder, free
//! again when it runs out or is given up.

use std::time::Duration;

use quanban::platform::jobs::{Job, release_all, take_lease};

use crate::common::TestApp;

crate::stories!(a_lease_has_one_holder_until_it_runs_out_or_is_given_up);

async fn a_lease_has_one_holder_until_it_runs_out_or_is_given_up(app: &TestApp) {
    let db = &app.state.db;
    let ttl = Duration::from_secs(30);
    let job = Job::ProactiveScan;
    assert!(take_lease(db, job, "process-a", ttl).await.unwrap(), "free at first");
    assert!(!take_lease(db, job, "process-b", ttl).await.unwrap(), "held by a");
    assert!(take_lease(db, job, "process-a", ttl).await.unwrap(), "a renews its own");
    assert!(
        take_lease(db, Job::SessionPurge, "process-b", ttl).await.unwrap(),
        "another job is another lease"
    );
    // Both at once: exactly one gets a free lease.
    let (a, b) = tokio::join!(
        take_lease(db, Job::CatalogApply, "process-a", ttl),
        take_lease(db, Job::CatalogApply, "process-b", ttl)
    );
    assert!(a.unwrap() ^ b.unwrap(), "one holder");
    // a stops renewing: after the lease time b takes over, and a is out.
    app.clock().advance(chrono::Duration::seconds(31)).unwrap();
    assert!(take_lease(db, job, "process-b", ttl).await.unwrap(), "ran out, b takes it");
    assert!(!take_lease(db, job, "process-a", ttl).await.unwrap(), "now held by b");
    // b shuts down and gives its leases up: a takes the job at once.
    assert!(release_all(db, "process-b").await.unwrap() >= 2);
    assert!(take_lease(db, job, "process-a", ttl).await.unwrap(), "given up, a takes it");
}
