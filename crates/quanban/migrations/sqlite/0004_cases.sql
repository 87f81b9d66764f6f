-- Cases (办件): applications, their timeline, materials, drafts, notifications with an outbox,
-- post-approval checks of commitments (事后核查) and credit marks (失信记录).

-- One row per day: the last sequence number handed out (case numbers are JN + date + sequence).
CREATE TABLE case_counters (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE cases (
    number           TEXT PRIMARY KEY,
    -- A bundle application (一件事) is a parent case with one sub-case per item.
    parent_number    TEXT REFERENCES cases(number),
    kind             TEXT NOT NULL CHECK (kind IN ('item', 'bundle')),
    item_code        TEXT,
    bundle_code      TEXT,
    title            TEXT NOT NULL,
    -- The department handling the case now (transfers change it).
    department       TEXT NOT NULL REFERENCES departments(code),
    -- The item's own department (where a mis-routed case can be returned to).
    owner_department TEXT NOT NULL,
    applicant_id     TEXT NOT NULL REFERENCES users(id),
    applicant_name   TEXT NOT NULL,
    enterprise       TEXT REFERENCES enterprises(credit_code),
    submitted_by     TEXT NOT NULL REFERENCES users(id),
    state            TEXT NOT NULL,
    single_approver  INTEGER NOT NULL,
    immediate        INTEGER NOT NULL,
    with_commitment  INTEGER NOT NULL,
    promised_days    INTEGER NOT NULL,
    form             TEXT NOT NULL,
    answers          TEXT,
    commitment_text  TEXT,
    complete         INTEGER NOT NULL,
    accepted_on      TEXT,
    accepted_by      TEXT,
    accepted_at_window INTEGER NOT NULL DEFAULT 0,
    paused_since     TEXT,
    paused_days      INTEGER NOT NULL DEFAULT 0,
    due_on           TEXT,
    decision         TEXT,
    decision_reason  TEXT,
    decided_at       TEXT,
    decision_document TEXT,
    submitted_at     TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cases_department_state ON cases(department, state);
CREATE INDEX cases_state ON cases(state, due_on);
CREATE INDEX cases_applicant ON cases(applicant_id, submitted_at);
CREATE INDEX cases_enterprise ON cases(enterprise);
CREATE INDEX cases_parent ON cases(parent_number);

CREATE TABLE case_events (
    case_number TEXT NOT NULL REFERENCES cases(number),
    seq         INTEGER NOT NULL,
    action      TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    role        TEXT,
    department  TEXT NOT NULL,
    reason      TEXT,
    detail      TEXT,
    at          TEXT NOT NULL,
    PRIMARY KEY (case_number, seq)
);

-- Uploaded files, stored once per content (the key is the SM3 hash of the bytes).
CREATE TABLE uploads (
    hash         TEXT PRIMARY KEY,
    size         INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TEXT NOT NULL
);

CREATE TABLE case_materials (
    case_number  TEXT NOT NULL REFERENCES cases(number),
    idx          INTEGER NOT NULL,
    name         TEXT NOT NULL,
    source       TEXT NOT NULL,
    -- upload | commitment | elicence_pending | data_pending | missing
    provided_as  TEXT NOT NULL,
    upload_hash  TEXT REFERENCES uploads(hash),
    file_name    TEXT,
    size         INTEGER,
    content_type TEXT,
    PRIMARY KEY (case_number, idx)
);

CREATE TABLE case_drafts (
    id          TEXT PRIMARY KEY,
    owner_id    TEXT NOT NULL REFERENCES users(id),
    item_code   TEXT,
    bundle_code TEXT,
    data        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX case_drafts_owner ON case_drafts(owner_id, updated_at);

CREATE TABLE notifications (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    case_number TEXT,
    title_zh    TEXT NOT NULL,
    title_en    TEXT NOT NULL,
    body_zh     TEXT NOT NULL,
    body_en     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    read_at     TEXT
);
CREATE INDEX notifications_user ON notifications(user_id, created_at);

CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL REFERENCES notifications(id),
    channel         TEXT NOT NULL CHECK (channel IN ('sms', 'email')),
    recipient       TEXT NOT NULL,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    -- A dispatcher claims a batch before sending, so that several processes never send one
    -- message twice; a claim older than a few minutes (a crashed sender) is taken over.
    claimed_by      TEXT,
    claimed_at      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_pending ON outbox(status, created_at);

CREATE TABLE post_checks (
    id           TEXT PRIMARY KEY,
    case_number  TEXT NOT NULL REFERENCES cases(number),
    department   TEXT NOT NULL REFERENCES departments(code),
    due_on       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'false_commitment')),
    note         TEXT,
    decided_by   TEXT,
    decided_at   TEXT,
    created_at   TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX post_checks_department ON post_checks(department, status);

CREATE TABLE credit_marks (
    id           TEXT PRIMARY KEY,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('person', 'enterprise')),
    subject      TEXT NOT NULL,
    case_number  TEXT NOT NULL REFERENCES cases(number),
    reason       TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX credit_marks_subject ON credit_marks(subject_kind, subject);
