-- Foundation: settings, reference data, identity, sessions, audit log, calendar.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SS.mmmZ' (fixed width, so they sort); booleans are 0/1.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE departments (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    level    TEXT NOT NULL,
    district TEXT,
    kind     TEXT NOT NULL,
    data     TEXT NOT NULL
);

CREATE TABLE halls (
    code     TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    level    TEXT NOT NULL,
    parent   TEXT REFERENCES halls(code),
    district TEXT,
    data     TEXT NOT NULL
);

-- Reference records owned by later areas (catalog, bundles, e-licence types, policies) are kept
-- whole as JSON until those areas give them their own tables.
CREATE TABLE reference_records (
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    department TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, code)
);

CREATE TABLE holiday_years (
    year       INTEGER PRIMARY KEY,
    off_days   TEXT NOT NULL,
    work_days  TEXT NOT NULL,
    source     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE users (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('person', 'staff')),
    username         TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    id_number        TEXT UNIQUE,
    id_number_masked TEXT,
    phone            TEXT,
    password_hash    TEXT NOT NULL,
    department       TEXT REFERENCES departments(code),
    status           TEXT NOT NULL DEFAULT 'active',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_phone_person ON users(phone) WHERE kind = 'person';

CREATE TABLE user_roles (
    user_id    TEXT NOT NULL REFERENCES users(id),
    role       TEXT NOT NULL,
    department TEXT NOT NULL REFERENCES departments(code),
    PRIMARY KEY (user_id, role, department)
);

CREATE TABLE staff_halls (
    user_id TEXT NOT NULL REFERENCES users(id),
    hall    TEXT NOT NULL REFERENCES halls(code),
    PRIMARY KEY (user_id, hall)
);

CREATE TABLE enterprises (
    credit_code          TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    legal_representative TEXT NOT NULL,
    created_at           TEXT NOT NULL,
    version              INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE enterprise_members (
    credit_code TEXT NOT NULL REFERENCES enterprises(credit_code),
    user_id     TEXT NOT NULL REFERENCES users(id),
    relation    TEXT NOT NULL CHECK (relation IN ('legal_representative', 'agent')),
    granted_at  TEXT NOT NULL,
    PRIMARY KEY (credit_code, user_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    kind       TEXT NOT NULL CHECK (kind IN ('web', 'api')),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until TEXT,
    updated_at   TEXT NOT NULL
);

CREATE TABLE demo_accounts (
    username   TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    department TEXT,
    password   TEXT NOT NULL
);

CREATE TABLE audit_log (
    stream    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    resource  TEXT NOT NULL,
    summary   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
);
CREATE INDEX audit_log_at ON audit_log(at);

CREATE TABLE audit_heads (
    stream TEXT PRIMARY KEY,
    seq    INTEGER NOT NULL,
    hash   TEXT NOT NULL,
    checkpointed_seq INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_checkpoints (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    streams   INTEGER NOT NULL
);

CREATE TABLE audit_checkpoint_heads (
    checkpoint_id INTEGER NOT NULL REFERENCES audit_checkpoints(id),
    stream        TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (checkpoint_id, stream)
);

-- The head follows the last appended entry. Done by the database so that an append costs one
-- statement fewer on the hot path (every state change appends).
CREATE TRIGGER audit_head_follows AFTER INSERT ON audit_log
BEGIN
    UPDATE audit_heads SET hash = NEW.hash WHERE stream = NEW.stream;
END;
