-- 免申即享 runs of enterprise policies: each run over the register, each enterprise's benefit
-- under a policy (what it is owed, whether its representative confirmed the receiving account,
-- what was paid), and one payment record per payment. `version` guards every change to a
-- benefit (claim first); a payment and the benefit it settles are written together.
CREATE TABLE policy_runs (
    id             TEXT PRIMARY KEY,
    policy         TEXT NOT NULL,
    started_by     TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    finished_at    TEXT,
    status         TEXT NOT NULL,
    evaluated      BIGINT NOT NULL,
    eligible       BIGINT NOT NULL,
    faults         BIGINT NOT NULL,
    notified       BIGINT NOT NULL,
    paid_count     BIGINT NOT NULL,
    paid_fen       BIGINT NOT NULL,
    budget_fen     BIGINT,
    version        BIGINT NOT NULL
);
CREATE INDEX policy_runs_policy ON policy_runs (policy, started_at);

CREATE TABLE policy_benefits (
    policy         TEXT NOT NULL,
    credit_code    TEXT NOT NULL,
    status         TEXT NOT NULL,
    amount_fen     BIGINT NOT NULL,
    paid_fen       BIGINT NOT NULL,
    fault          TEXT,
    explanation    TEXT NOT NULL,
    run_id         TEXT NOT NULL,
    account        TEXT,
    account_hint   TEXT,
    confirmed_by   TEXT,
    confirmed_at   TEXT,
    notified_at    TEXT,
    updated_at     TEXT NOT NULL,
    version        BIGINT NOT NULL,
    PRIMARY KEY (policy, credit_code)
);
CREATE INDEX policy_benefits_enterprise ON policy_benefits (credit_code);
CREATE INDEX policy_benefits_status ON policy_benefits (policy, status);

CREATE TABLE policy_payments (
    id             TEXT PRIMARY KEY,
    policy         TEXT NOT NULL,
    credit_code    TEXT NOT NULL,
    run_id         TEXT NOT NULL,
    amount_fen     BIGINT NOT NULL,
    account        TEXT NOT NULL,
    paid_at        TEXT NOT NULL
);
CREATE INDEX policy_payments_policy ON policy_payments (policy, credit_code);
