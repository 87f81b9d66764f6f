-- Halls: which items a hall handles (administrators' changes to the default), appointment
-- slots and appointments.

CREATE TABLE hall_items (
    hall_code  TEXT NOT NULL REFERENCES halls(code),
    item_code  TEXT NOT NULL,
    handles    INTEGER NOT NULL,
    updated_by TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (hall_code, item_code)
);

-- One row per booked slot. `booked <= capacity` is checked by the database itself, and every
-- booking increments `booked` with a guarded upsert, so no slot is ever overbooked, whatever
-- the number of app processes.
CREATE TABLE appointment_slots (
    hall_code  TEXT NOT NULL REFERENCES halls(code),
    slot_start TEXT NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity > 0),
    booked     INTEGER NOT NULL CHECK (booked >= 0),
    PRIMARY KEY (hall_code, slot_start),
    CHECK (booked <= capacity)
);

CREATE TABLE appointments (
    id           TEXT PRIMARY KEY,
    hall_code    TEXT NOT NULL REFERENCES halls(code),
    item_code    TEXT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users(id),
    slot_start   TEXT NOT NULL,
    slot_end     TEXT NOT NULL,
    -- booked | cancelled | arrived | no_show
    status       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
-- The same person at most once in a slot.
CREATE UNIQUE INDEX appointments_once ON appointments(user_id, hall_code, slot_start) WHERE status = 'booked';
CREATE INDEX appointments_user ON appointments(user_id, slot_start);
CREATE INDEX appointments_hall ON appointments(hall_code, slot_start);

-- Queue numbers (取号): a number per hall, day and window group, from a counter.
CREATE TABLE queue_counters (
    hall_code  TEXT NOT NULL REFERENCES halls(code),
    day        TEXT NOT NULL,
    group_code TEXT NOT NULL,
    last       INTEGER NOT NULL,
    PRIMARY KEY (hall_code, day, group_code)
);

CREATE TABLE queue_tickets (
    id             TEXT PRIMARY KEY,
    hall_code      TEXT NOT NULL REFERENCES halls(code),
    day            TEXT NOT NULL,
    group_code     TEXT NOT NULL,
    number         INTEGER NOT NULL,
    label          TEXT NOT NULL,
    appointment_id TEXT REFERENCES appointments(id),
    user_id        TEXT REFERENCES users(id),
    -- waiting | called | done | skipped
    status         TEXT NOT NULL,
    window_label   TEXT,
    issued_at      TEXT NOT NULL,
    called_at      TEXT,
    called_by      TEXT,
    UNIQUE (hall_code, day, group_code, number)
);
CREATE INDEX queue_tickets_waiting ON queue_tickets(hall_code, day, status, group_code, number);

-- Self-service kiosks (自助终端): a registered device per hall, with its last heartbeat.
CREATE TABLE kiosks (
    id            TEXT PRIMARY KEY,
    hall_code     TEXT NOT NULL REFERENCES halls(code),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    registered_by TEXT,
    registered_at TEXT NOT NULL,
    last_seen_at  TEXT
);
