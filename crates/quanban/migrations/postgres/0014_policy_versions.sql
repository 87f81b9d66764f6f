-- Versions of a policy's rules: proposed by one policy officer, approved or rejected by
-- another (or the issuing department's head). The rules in force on a day are the shipped
-- ones overlaid by the latest approved version effective by then. `row_version` guards every
-- decision (claim first).
CREATE TABLE policy_versions (
    code           TEXT NOT NULL,
    version        BIGINT NOT NULL,
    eligibility    TEXT NOT NULL,
    amount         TEXT NOT NULL,
    cap_fen        BIGINT,
    budget_fen     BIGINT NOT NULL,
    effective_on   TEXT NOT NULL,
    status         TEXT NOT NULL,
    note           TEXT NOT NULL,
    proposed_by    TEXT NOT NULL,
    proposed_at    TEXT NOT NULL,
    decided_by     TEXT,
    decided_at     TEXT,
    decision_note  TEXT,
    row_version    BIGINT NOT NULL,
    PRIMARY KEY (code, version)
);
CREATE INDEX policy_versions_status ON policy_versions (status, effective_on);
