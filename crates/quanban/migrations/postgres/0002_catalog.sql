-- Service-item catalog (政务服务事项清单) with dynamic adjustment: every version kept, changes go
-- through proposals that an approver of the owning department decides.

CREATE TABLE catalog_items (
    code                   TEXT PRIMARY KEY,
    name                   TEXT NOT NULL,
    department             TEXT NOT NULL REFERENCES departments(code),
    supervising_department TEXT REFERENCES departments(code),
    level                  TEXT NOT NULL,
    audience               TEXT NOT NULL,
    life_event             TEXT NOT NULL,
    online                 BIGINT NOT NULL,
    status                 TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'removed')),
    data                   TEXT NOT NULL,
    version                BIGINT NOT NULL,
    effective_date         TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE INDEX catalog_items_department ON catalog_items(department);
CREATE INDEX catalog_items_audience ON catalog_items(audience, life_event);

CREATE TABLE catalog_versions (
    code                   TEXT NOT NULL,
    version                BIGINT NOT NULL,
    name                   TEXT NOT NULL,
    department             TEXT NOT NULL,
    level                  TEXT NOT NULL,
    audience               TEXT NOT NULL,
    life_event             TEXT NOT NULL,
    online                 BIGINT NOT NULL,
    status                 TEXT NOT NULL,
    data                   TEXT NOT NULL,
    supervising_department TEXT,
    effective_date         TEXT NOT NULL,
    proposal_id            TEXT,
    op                     TEXT NOT NULL,
    diff                   TEXT NOT NULL,
    recorded_at            TEXT NOT NULL,
    PRIMARY KEY (code, version)
);
CREATE INDEX catalog_versions_effective ON catalog_versions(effective_date);

CREATE TABLE catalog_proposals (
    id             TEXT PRIMARY KEY,
    department     TEXT NOT NULL REFERENCES departments(code),
    source         TEXT NOT NULL,
    reason         TEXT NOT NULL,
    effective_date TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'applied')),
    changes        TEXT NOT NULL,
    change_count   BIGINT NOT NULL,
    proposed_by    TEXT NOT NULL,
    proposed_at    TEXT NOT NULL,
    decided_by     TEXT,
    decided_at     TEXT,
    decision_note  TEXT,
    applied_at     TEXT,
    version        BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX catalog_proposals_status ON catalog_proposals(status, effective_date);
