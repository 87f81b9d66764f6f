-- The population register (人口基础信息, 公安局). Keyed by the keyed digest of the ID number;
-- the number itself is sealed (personal data is encrypted at rest).
CREATE TABLE data_population (
    id_digest          TEXT PRIMARY KEY,
    id_number          TEXT NOT NULL,
    name               TEXT NOT NULL,
    household_district TEXT NOT NULL,
    birth_date         TEXT NOT NULL,
    marital_status     TEXT,
    children           BIGINT,
    disability         BIGINT,
    minimum_living     BIGINT,
    import_id          TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);


-- Requests for conditional data (有条件共享) and the exchange's access log.
--
-- A request names the requesting department, the dataset (and so its owner), the fields, the
-- purpose, the legal basis and the items it serves. The owner decides field by field
-- (`fields` holds each field with its decision); a request with at least one approved field is a
-- grant until it expires or is revoked. `version` guards every change (claim first).
CREATE TABLE data_requests (
    id             TEXT PRIMARY KEY,
    requester      TEXT NOT NULL,
    owner          TEXT NOT NULL,
    dataset        TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    purpose_detail TEXT NOT NULL,
    legal_basis    TEXT NOT NULL,
    items          TEXT NOT NULL,
    fields         TEXT NOT NULL,
    months         BIGINT NOT NULL,
    status         TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    requested_at   TEXT NOT NULL,
    due_on         TEXT NOT NULL,
    decided_by     TEXT,
    decided_at     TEXT,
    expires_on     TEXT,
    closed_by      TEXT,
    closed_at      TEXT,
    close_reason   TEXT,
    version        BIGINT NOT NULL
);
CREATE INDEX data_requests_requester ON data_requests (requester, dataset, status);
CREATE INDEX data_requests_owner ON data_requests (owner, status);

-- Every read through the exchange. `subject` is the record's key for enterprises (a credit
-- code is public) and `p:` + the keyed digest of the ID number for people (never the number);
-- a batch read has no subject: it covers every record of its dataset matching `criteria`.
-- Each single read is also an entry of the subject's audit stream (`data_access:<subject>`).
CREATE TABLE data_access_log (
    id          TEXT PRIMARY KEY,
    at          TEXT NOT NULL,
    department  TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    dataset     TEXT NOT NULL,
    subject     TEXT,
    fields      TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    case_number TEXT,
    policy      TEXT,
    grants      TEXT NOT NULL,
    criteria    TEXT,
    records     BIGINT NOT NULL
);
CREATE INDEX data_access_log_subject ON data_access_log (subject, at);
CREATE INDEX data_access_log_batch ON data_access_log (dataset, at) WHERE subject IS NULL;
CREATE INDEX data_access_log_department ON data_access_log (department, at);

-- A material filled from shared data: the access that fetched it and what it held (sealed).
ALTER TABLE case_materials ADD COLUMN exchange_ref TEXT;
ALTER TABLE case_materials ADD COLUMN exchange_data TEXT;
