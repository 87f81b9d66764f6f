-- 好差评 (good/bad reviews) and 接诉即办 (complaints), 未诉先办 (proactive tasks), Open311 clients.

-- One rating per rated object (一事一评 / 一次一评): a finished case, a hall visit (by its
-- queue ticket) or a complaint's handling.
CREATE TABLE ratings (
    id          TEXT PRIMARY KEY,
    -- case | visit | complaint
    object_kind TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    department  TEXT NOT NULL,
    item_code   TEXT,
    hall_code   TEXT,
    officer_id  TEXT,
    rater_id    TEXT,
    real_name   BIGINT NOT NULL,
    score       BIGINT NOT NULL CHECK (score BETWEEN 1 AND 5),
    -- JSON object: indicator code → 1..5
    indicators  TEXT NOT NULL,
    comment     TEXT,
    -- web | app | pad | kiosk | sms | hotline
    channel     TEXT NOT NULL,
    served_on   TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    -- an upheld appeal takes the rating out of the statistics
    excluded    BIGINT NOT NULL DEFAULT 0,
    UNIQUE (object_kind, object_id)
);
CREATE INDEX ratings_department ON ratings(department, created_at);
CREATE INDEX ratings_rater ON ratings(rater_id);

-- The bad-review loop (差评整改): assigned → verified → rectified → revisited → closed.
CREATE TABLE rectifications (
    rating_id       TEXT PRIMARY KEY REFERENCES ratings(id),
    department      TEXT NOT NULL,
    -- assigned | verified | rectified | closed | appealed | excluded
    status          TEXT NOT NULL,
    appeal_from     TEXT,
    verify_due      TEXT NOT NULL,
    rectify_due     TEXT NOT NULL,
    verified_at     TEXT,
    verify_note     TEXT,
    answer          TEXT,
    rectified_at    TEXT,
    on_time         BIGINT,
    revisited_at    TEXT,
    satisfied       BIGINT,
    reopened        BIGINT NOT NULL DEFAULT 0,
    appeal_reason   TEXT,
    appeal_decision TEXT,
    closed_at       TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX rectifications_department ON rectifications(department, status);

CREATE TABLE rectification_events (
    rating_id  TEXT NOT NULL REFERENCES ratings(id),
    seq        BIGINT NOT NULL,
    at         TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    note       TEXT,
    PRIMARY KEY (rating_id, seq)
);

-- The complaint taxonomy (configurable) and its location rules.
CREATE TABLE complaint_categories (
    code          TEXT PRIMARY KEY,
    body          TEXT NOT NULL,
    position      BIGINT NOT NULL
);
CREATE TABLE complaint_district_rules (
    category   TEXT NOT NULL,
    district   TEXT NOT NULL,
    department TEXT NOT NULL,
    PRIMARY KEY (category, district)
);

CREATE TABLE complaint_counters (
    day TEXT PRIMARY KEY,
    n   BIGINT NOT NULL
);

CREATE TABLE complaints (
    id                 TEXT PRIMARY KEY,
    -- hotline | web | app | open311
    source             TEXT NOT NULL,
    category           TEXT,
    department         TEXT,
    district           TEXT,
    description        TEXT NOT NULL,
    address            TEXT,
    lat                DOUBLE PRECISION,
    lon                DOUBLE PRECISION,
    -- JSON array of upload hashes
    photos             TEXT NOT NULL,
    complainant_id     TEXT REFERENCES users(id),
    complainant_name   TEXT,
    complainant_phone  TEXT,
    open311_client     TEXT,
    -- dispatched | responded | resolved | closed | returned | merged
    status             TEXT NOT NULL,
    -- rule | classifier | operator
    routed_by          TEXT NOT NULL,
    confidence         DOUBLE PRECISION,
    returned_by        TEXT NOT NULL DEFAULT '[]',
    dispatched_at      TEXT NOT NULL,
    respond_due        TEXT NOT NULL,
    resolve_due        TEXT NOT NULL,
    extension_days     BIGINT NOT NULL DEFAULT 0,
    extension_request  BIGINT,
    extension_reason   TEXT,
    responded_at       TEXT,
    responded_on_time  BIGINT,
    resolved_at        TEXT,
    answer             TEXT,
    callback_at        TEXT,
    callback_resolved  BIGINT,
    callback_satisfied BIGINT,
    reopened           BIGINT NOT NULL DEFAULT 0,
    merged_into        TEXT,
    proactive_task     TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX complaints_department ON complaints(department, status);
CREATE INDEX complaints_created ON complaints(created_at);
CREATE INDEX complaints_complainant ON complaints(complainant_id);
CREATE INDEX complaints_status ON complaints(status, created_at);
-- Duplicate candidates: near a point, or of a category.
CREATE INDEX complaints_place ON complaints(lat, lon);
CREATE INDEX complaints_category ON complaints(category, created_at);

-- The history of a complaint: dispatch, return, re-dispatch, response, answer, callback …
CREATE TABLE complaint_events (
    complaint_id TEXT NOT NULL REFERENCES complaints(id),
    seq          BIGINT NOT NULL,
    at           TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    department   TEXT,
    note         TEXT,
    PRIMARY KEY (complaint_id, seq)
);

-- 未诉先办: a proactive task raised for a cluster of similar complaints.
CREATE TABLE proactive_tasks (
    id          TEXT PRIMARY KEY,
    category    TEXT NOT NULL,
    department  TEXT NOT NULL,
    district    TEXT,
    lat         DOUBLE PRECISION NOT NULL,
    lon         DOUBLE PRECISION NOT NULL,
    radius_m    DOUBLE PRECISION NOT NULL,
    members     TEXT NOT NULL,
    size        BIGINT NOT NULL,
    -- open | done
    status      TEXT NOT NULL,
    note        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX proactive_tasks_status ON proactive_tasks(status, category);

-- Open311 GeoReport v2 clients: the key's SM3 digest, never the key.
CREATE TABLE open311_clients (
    key_hash   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    active     BIGINT NOT NULL DEFAULT 1
);
