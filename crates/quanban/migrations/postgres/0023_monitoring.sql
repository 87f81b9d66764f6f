-- Electronic monitoring (电子监察): what was raised, once per subject and level (the primary key
-- makes the sweep idempotent across runs and processes), and the supervision orders (督办单)
-- raised for what is overdue, with the department head's rectification.

CREATE TABLE monitoring_alerts (
    subject    TEXT NOT NULL,
    level      TEXT NOT NULL CHECK (level IN ('yellow', 'red')),
    department TEXT NOT NULL REFERENCES departments(code),
    title      TEXT NOT NULL,
    due_on     TEXT,
    raised_at  TEXT NOT NULL,
    PRIMARY KEY (subject, level)
);
CREATE INDEX monitoring_alerts_department ON monitoring_alerts(department, raised_at);

CREATE TABLE supervision_orders (
    id             TEXT PRIMARY KEY,
    number         TEXT NOT NULL UNIQUE,
    subject        TEXT NOT NULL UNIQUE,
    department     TEXT NOT NULL REFERENCES departments(code),
    title          TEXT NOT NULL,
    issued_at      TEXT NOT NULL,
    rectify_by     TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    rectification  TEXT,
    closed_by      TEXT REFERENCES users(id),
    closed_by_name TEXT,
    closed_at      TEXT,
    version        BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX supervision_orders_department ON supervision_orders(department, status);
