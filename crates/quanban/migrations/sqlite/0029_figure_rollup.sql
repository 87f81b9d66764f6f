-- The assessment's figures summed per department and Beijing day (a city's year is 365 rows
-- per department and indicator instead of a million cases), and the days whose sums a change
-- has made stale.
--
-- Triggers mark the days every insert, relevant update and delete touches, in the same
-- transaction as the change, so no write path can forget to; `assessment::rollup::refresh`
-- recomputes the marked days from the records before the sums are read.

CREATE TABLE figure_days (
    indicator  TEXT NOT NULL,
    day        TEXT NOT NULL,
    department TEXT NOT NULL,
    numerator  BIGINT NOT NULL,
    denominator BIGINT NOT NULL,
    PRIMARY KEY (indicator, day, department)
);
CREATE INDEX figure_days_day ON figure_days(day, department, indicator);

-- basis: which column the days are of (case_submitted, case_decided, case_due,
-- complaint_created, rating_created); day: the first 10 characters of the stored value (the
-- UTC day of an instant, which touches two Beijing days, or the date itself).
CREATE TABLE figure_dirty (
    basis TEXT NOT NULL,
    day   TEXT NOT NULL,
    PRIMARY KEY (basis, day)
);

-- Only one refresh at a time (on PostgreSQL two processes may try at once).
INSERT INTO job_leases (name) VALUES ('figure_rollup');

CREATE TRIGGER cases_figures_insert AFTER INSERT ON cases BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_submitted', substr(NEW.submitted_at, 1, 10) WHERE NEW.submitted_at IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_decided', substr(NEW.decided_at, 1, 10) WHERE NEW.decided_at IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_due', substr(NEW.due_on, 1, 10) WHERE NEW.due_on IS NOT NULL;
END;

CREATE TRIGGER cases_figures_update AFTER UPDATE ON cases
WHEN OLD.kind IS NOT NEW.kind OR OLD.department IS NOT NEW.department OR OLD.state IS NOT NEW.state
  OR OLD.item_code IS NOT NEW.item_code OR OLD.submitted_at IS NOT NEW.submitted_at
  OR OLD.decided_at IS NOT NEW.decided_at OR OLD.due_on IS NOT NEW.due_on
  OR OLD.accepted_on IS NOT NEW.accepted_on OR OLD.promised_days IS NOT NEW.promised_days
  OR OLD.paused_days IS NOT NEW.paused_days OR OLD.accepted_at_window IS NOT NEW.accepted_at_window
  OR OLD.in_person IS NOT NEW.in_person
BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_submitted', substr(OLD.submitted_at, 1, 10) WHERE OLD.submitted_at IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_decided', substr(OLD.decided_at, 1, 10) WHERE OLD.decided_at IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_due', substr(OLD.due_on, 1, 10) WHERE OLD.due_on IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_submitted', substr(NEW.submitted_at, 1, 10) WHERE NEW.submitted_at IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_decided', substr(NEW.decided_at, 1, 10) WHERE NEW.decided_at IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_due', substr(NEW.due_on, 1, 10) WHERE NEW.due_on IS NOT NULL;
END;

CREATE TRIGGER cases_figures_delete AFTER DELETE ON cases BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_submitted', substr(OLD.submitted_at, 1, 10) WHERE OLD.submitted_at IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_decided', substr(OLD.decided_at, 1, 10) WHERE OLD.decided_at IS NOT NULL;
    INSERT OR IGNORE INTO figure_dirty (basis, day) SELECT 'case_due', substr(OLD.due_on, 1, 10) WHERE OLD.due_on IS NOT NULL;
END;

CREATE TRIGGER complaints_figures_insert AFTER INSERT ON complaints BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) VALUES ('complaint_created', substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER complaints_figures_update AFTER UPDATE ON complaints
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.department IS NOT NEW.department
  OR OLD.status IS NOT NEW.status OR OLD.responded_on_time IS NOT NEW.responded_on_time
  OR OLD.callback_at IS NOT NEW.callback_at OR OLD.callback_resolved IS NOT NEW.callback_resolved
  OR OLD.callback_satisfied IS NOT NEW.callback_satisfied
BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) VALUES ('complaint_created', substr(OLD.created_at, 1, 10));
    INSERT OR IGNORE INTO figure_dirty (basis, day) VALUES ('complaint_created', substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER complaints_figures_delete AFTER DELETE ON complaints BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) VALUES ('complaint_created', substr(OLD.created_at, 1, 10));
END;

CREATE TRIGGER ratings_figures_insert AFTER INSERT ON ratings BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) VALUES ('rating_created', substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER ratings_figures_update AFTER UPDATE ON ratings
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.department IS NOT NEW.department
  OR OLD.excluded IS NOT NEW.excluded OR OLD.score IS NOT NEW.score
BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) VALUES ('rating_created', substr(OLD.created_at, 1, 10));
    INSERT OR IGNORE INTO figure_dirty (basis, day) VALUES ('rating_created', substr(NEW.created_at, 1, 10));
END;

CREATE TRIGGER ratings_figures_delete AFTER DELETE ON ratings BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day) VALUES ('rating_created', substr(OLD.created_at, 1, 10));
END;

-- A bad review's rectification counts on the day the review was given.
CREATE TRIGGER rectifications_figures_insert AFTER INSERT ON rectifications BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day)
        SELECT 'rating_created', substr(created_at, 1, 10) FROM ratings WHERE id = NEW.rating_id;
END;

CREATE TRIGGER rectifications_figures_update AFTER UPDATE ON rectifications
WHEN OLD.rating_id IS NOT NEW.rating_id OR OLD.rectified_at IS NOT NEW.rectified_at OR OLD.on_time IS NOT NEW.on_time
BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day)
        SELECT 'rating_created', substr(created_at, 1, 10) FROM ratings WHERE id IN (OLD.rating_id, NEW.rating_id);
END;

CREATE TRIGGER rectifications_figures_delete AFTER DELETE ON rectifications BEGIN
    INSERT OR IGNORE INTO figure_dirty (basis, day)
        SELECT 'rating_created', substr(created_at, 1, 10) FROM ratings WHERE id = OLD.rating_id;
END;
