-- Reform tasks (改革任务) with their milestones, progress reports and reviews. A milestone is
-- claimed at its version by each report and review; its history is kept as events.

CREATE TABLE reform_tasks (
    code            TEXT PRIMARY KEY,
    title           TEXT NOT NULL,
    area            TEXT NOT NULL,
    description     TEXT NOT NULL,
    lead_department TEXT NOT NULL REFERENCES departments(code),
    -- JSON array of department codes
    supporting      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX reform_tasks_lead ON reform_tasks(lead_department);

CREATE TABLE reform_milestones (
    task_code        TEXT NOT NULL REFERENCES reform_tasks(code),
    seq              INTEGER NOT NULL,
    title            TEXT NOT NULL,
    due_on           TEXT NOT NULL,
    needs_evidence   INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'reported', 'accepted', 'returned')),
    report           TEXT,
    -- JSON array of evidence (links and uploaded files)
    evidence         TEXT NOT NULL DEFAULT '[]',
    reported_by_name TEXT,
    reported_at      TEXT,
    review_comment   TEXT,
    reviewed_by_name TEXT,
    reviewed_at      TEXT,
    -- the Beijing day it was accepted (on time when not after due_on)
    accepted_on      TEXT,
    version          INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (task_code, seq)
);
CREATE INDEX reform_milestones_due ON reform_milestones(status, due_on);

CREATE TABLE reform_events (
    task_code  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    at         TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    -- report | accept | return
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL
);
CREATE INDEX reform_events_milestone ON reform_events(task_code, seq, at);
