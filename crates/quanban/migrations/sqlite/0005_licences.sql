-- E-licences (电子证照) and e-seals (电子印章).

-- A department's seal: a key pair per algorithm (SM2 and Ed25519), private keys wrapped with the
-- configured seal key (SM4-GCM). Retired seals stay verifiable; revoked ones do not.
CREATE TABLE seals (
    id             TEXT PRIMARY KEY,
    department     TEXT NOT NULL REFERENCES departments(code),
    name           TEXT NOT NULL,
    serial         TEXT NOT NULL,
    ed25519_public TEXT NOT NULL,
    sm2_public     TEXT NOT NULL,
    ed25519_secret TEXT NOT NULL,
    sm2_secret     TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
    status_reason  TEXT,
    valid_from     TEXT NOT NULL,
    valid_until    TEXT,
    created_at     TEXT NOT NULL,
    created_by     TEXT,
    updated_at     TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1
);
-- One signing seal per department at a time: rotation retires the old one in the same transaction.
CREATE UNIQUE INDEX seals_one_active ON seals(department) WHERE status = 'active';

-- Status list positions are handed out per issuer; one index serves both the revocation and the
-- suspension list.
CREATE TABLE credential_counters (
    issuer TEXT PRIMARY KEY REFERENCES departments(code),
    last   INTEGER NOT NULL
);

CREATE TABLE credentials (
    id                 TEXT PRIMARY KEY,
    identifier         TEXT NOT NULL UNIQUE,
    type_code          TEXT NOT NULL,
    issuer             TEXT NOT NULL REFERENCES departments(code),
    seal_id            TEXT NOT NULL REFERENCES seals(id),
    holder_kind        TEXT NOT NULL CHECK (holder_kind IN ('person', 'enterprise')),
    holder_user_id     TEXT REFERENCES users(id),
    holder_credit_code TEXT REFERENCES enterprises(credit_code),
    holder_name        TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    status_reason      TEXT,
    status_index       INTEGER NOT NULL,
    valid_from         TEXT NOT NULL,
    valid_until        TEXT,
    case_number        TEXT REFERENCES cases(number),
    document           TEXT NOT NULL,
    issued_by          TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1,
    UNIQUE (issuer, status_index)
);
CREATE INDEX credentials_holder_user ON credentials(holder_user_id);
CREATE INDEX credentials_holder_enterprise ON credentials(holder_credit_code);
CREATE INDEX credentials_issuer ON credentials(issuer, created_at);
-- A case issues its licence once, even if approval is retried.
CREATE UNIQUE INDEX credentials_case_type ON credentials(case_number, type_code) WHERE case_number IS NOT NULL;

-- A material proven by a wallet credential (免提交): which credential, and what verification said
-- when the applicant consented.
ALTER TABLE case_materials ADD COLUMN credential_id TEXT REFERENCES credentials(id);
ALTER TABLE case_materials ADD COLUMN credential_check TEXT;
