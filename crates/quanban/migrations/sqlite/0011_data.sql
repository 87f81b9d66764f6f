-- The city's registers as datasets (政务数据资源目录): one table per owning department's part
-- of the enterprise register, keyed by the unified social credit code, columns as the fields of
-- `enterprise_fields` (reference/policies.json). Money is integer fen, booleans 0/1, dates
-- YYYY-MM-DD. `import_id` names the register import that last wrote the row.
CREATE TABLE data_market_entities (
    uscc              TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    district          TEXT NOT NULL,
    industry_section  TEXT NOT NULL,
    industry_division TEXT NOT NULL,
    founded           TEXT NOT NULL,
    size              TEXT NOT NULL,
    status            TEXT NOT NULL,
    credit_status     TEXT NOT NULL,
    import_id         TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX data_market_entities_district ON data_market_entities (district);

CREATE TABLE data_tax (
    uscc                     TEXT PRIMARY KEY,
    revenue_last_year        BIGINT,
    revenue_prev_year        BIGINT,
    tax_paid_last_year       BIGINT,
    rd_expense_last_year     BIGINT,
    export_revenue_last_year BIGINT,
    export_revenue_prev_year BIGINT,
    import_id                TEXT NOT NULL,
    updated_at               TEXT NOT NULL
);

CREATE TABLE data_social_insurance (
    uscc                                  TEXT PRIMARY KEY,
    employees                             BIGINT,
    employees_last_year                   BIGINT,
    layoffs_last_year                     BIGINT,
    unemployment_insurance_paid_last_year BIGINT,
    new_graduate_hires_last_year          BIGINT,
    import_id                             TEXT NOT NULL,
    updated_at                            TEXT NOT NULL
);

CREATE TABLE data_industry (
    uscc                      TEXT PRIMARY KEY,
    above_scale               BIGINT,
    srdi_level                TEXT,
    srdi_since                TEXT,
    tech_investment_last_year BIGINT,
    import_id                 TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);

CREATE TABLE data_science (
    uscc       TEXT PRIMARY KEY,
    high_tech  BIGINT,
    import_id  TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE data_finance (
    uscc                      TEXT PRIMARY KEY,
    first_loan_last_year_yuan BIGINT,
    import_id                 TEXT NOT NULL,
    updated_at                TEXT NOT NULL
);

-- One row per register import: who loaded which file, how many rows, and when it finished.
CREATE TABLE data_imports (
    id          TEXT PRIMARY KEY,
    register    TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    rows_total  BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT
);
