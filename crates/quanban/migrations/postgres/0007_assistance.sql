-- Assisted service (帮办代办): a request for help, the officer assigned, the power of attorney
-- the applicant signs, progress notes and the applicant's rating. Free of charge.
CREATE TABLE assistance_requests (
    id             TEXT PRIMARY KEY,
    requester_id   TEXT NOT NULL REFERENCES users(id),
    enterprise     TEXT REFERENCES enterprises(credit_code),
    item_code      TEXT,
    project_name   TEXT,
    description    TEXT NOT NULL,
    contact_phone  TEXT NOT NULL,
    -- requested | assigned | authorized | done | cancelled
    status         TEXT NOT NULL,
    officer_id     TEXT REFERENCES users(id),
    assigned_by    TEXT REFERENCES users(id),
    poa_text       TEXT,
    poa_signed_at  TEXT,
    rating         BIGINT,
    rating_comment TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX assistance_requester ON assistance_requests(requester_id);
CREATE INDEX assistance_officer ON assistance_requests(officer_id);

CREATE TABLE assistance_notes (
    request_id  TEXT NOT NULL REFERENCES assistance_requests(id),
    seq         BIGINT NOT NULL,
    author_id   TEXT NOT NULL REFERENCES users(id),
    author_name TEXT NOT NULL,
    text        TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
);
