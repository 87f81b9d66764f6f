-- Construction projects (工程建设项目): a project registered by its builder, applied for stage by
-- stage (each stage one bundle case, linked here by `cases.project_code`/`project_stage`), and
-- the opinions of the member departments of a joint review (联合审图、联合验收).

-- One row per year: the last sequence number of the project codes handed out.
CREATE TABLE project_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE projects (
    code           TEXT PRIMARY KEY,
    flow           TEXT NOT NULL,
    name           TEXT NOT NULL,
    district       TEXT NOT NULL,
    location       TEXT NOT NULL,
    floor_area_m2  REAL NOT NULL,
    investment_wan REAL NOT NULL,
    enterprise     TEXT NOT NULL REFERENCES enterprises(credit_code),
    enterprise_name TEXT NOT NULL,
    created_by     TEXT NOT NULL REFERENCES users(id),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    -- Claimed by every stage application, so that two applications for one stage cannot both
    -- be made from the same reading of the project.
    version        INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX projects_enterprise ON projects(enterprise, created_at);

ALTER TABLE cases ADD COLUMN project_code TEXT REFERENCES projects(code);
ALTER TABLE cases ADD COLUMN project_stage INTEGER;
CREATE INDEX cases_project ON cases(project_code) WHERE project_code IS NOT NULL;

CREATE TABLE joint_opinions (
    case_number TEXT NOT NULL REFERENCES cases(number),
    department  TEXT NOT NULL REFERENCES departments(code),
    opinion     TEXT NOT NULL CHECK (opinion IN ('pass', 'fail')),
    comment     TEXT,
    by_id       TEXT NOT NULL REFERENCES users(id),
    by_name     TEXT NOT NULL,
    at          TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (case_number, department)
);
