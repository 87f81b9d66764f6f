-- The supervision office's comments on a department's scorecard (督查意见): the only thing it
-- writes there, since figures are computed from the records. Kept, never edited.
CREATE TABLE assessment_comments (
    id          TEXT PRIMARY KEY,
    department  TEXT NOT NULL REFERENCES departments(code),
    -- The period the figures were read over (YYYY-MM-DD, Beijing).
    period_from TEXT NOT NULL,
    period_to   TEXT NOT NULL,
    -- The figure it is about (an indicator code); none: the scorecard as a whole.
    indicator   TEXT,
    body        TEXT NOT NULL,
    author_id   TEXT NOT NULL REFERENCES users(id),
    author_name TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX assessment_comments_department ON assessment_comments(department, created_at);
