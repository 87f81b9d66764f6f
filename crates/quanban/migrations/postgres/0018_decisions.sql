-- Decision documents are numbered in the usual form (济政务许〔2026〕123号): one sequence per
-- year and kind (grants and refusals apart). A number is reserved before the document is
-- sealed, so a decision refused afterwards leaves a gap; numbers are unique, not contiguous.
CREATE TABLE decision_counters (
    year INTEGER NOT NULL,
    kind TEXT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (year, kind)
);
