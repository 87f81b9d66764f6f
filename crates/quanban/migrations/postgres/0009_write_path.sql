-- Periodic jobs take a lease row before each run, so that two processes on one database never
-- do the same run; rows here also serve as lock rows for work that reads a set of rows and then
-- writes (the proactive cluster scan locks 'proactive_scan' first).
CREATE TABLE job_leases (
    name    TEXT PRIMARY KEY,
    holder  TEXT,
    until   TEXT,
    runs    BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1
);

INSERT INTO job_leases (name) VALUES ('proactive_scan');
