-- Guidance hand-off (人工导引): questions the machine could not answer well go to a staff queue.

CREATE TABLE guide_handoffs (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL,
    user_id     TEXT REFERENCES users(id),
    query       TEXT NOT NULL,
    note        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'answered')),
    created_at  TEXT NOT NULL,
    answer      TEXT,
    answered_by TEXT,
    answered_at TEXT,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX guide_handoffs_status ON guide_handoffs(status, created_at);
