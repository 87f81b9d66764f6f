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

-- Only one refresh at a time (two processes may try at once).
INSERT INTO job_leases (name) VALUES ('figure_rollup');

-- A day already marked (and committed) is left alone: writers of the same day then never wait
-- on each other's uncommitted mark, only in the moment after a refresh has taken it.
CREATE FUNCTION figures_mark(mark_basis TEXT, mark_at TEXT) RETURNS void AS $$
BEGIN
    IF mark_at IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM figure_dirty f WHERE f.basis = mark_basis AND f.day = substr(mark_at, 1, 10)
    ) THEN
        INSERT INTO figure_dirty (basis, day) VALUES (mark_basis, substr(mark_at, 1, 10)) ON CONFLICT DO NOTHING;
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION cases_figures_dirty() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM figures_mark('case_submitted', OLD.submitted_at);
        PERFORM figures_mark('case_decided', OLD.decided_at);
        PERFORM figures_mark('case_due', OLD.due_on);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM figures_mark('case_submitted', NEW.submitted_at);
        PERFORM figures_mark('case_decided', NEW.decided_at);
        PERFORM figures_mark('case_due', NEW.due_on);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cases_figures_insert AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_figures_dirty();
CREATE TRIGGER cases_figures_update AFTER UPDATE ON cases FOR EACH ROW
    WHEN (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.department IS DISTINCT FROM NEW.department
      OR OLD.state IS DISTINCT FROM NEW.state OR OLD.item_code IS DISTINCT FROM NEW.item_code
      OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at OR OLD.decided_at IS DISTINCT FROM NEW.decided_at
      OR OLD.due_on IS DISTINCT FROM NEW.due_on OR OLD.accepted_on IS DISTINCT FROM NEW.accepted_on
      OR OLD.promised_days IS DISTINCT FROM NEW.promised_days OR OLD.paused_days IS DISTINCT FROM NEW.paused_days
      OR OLD.accepted_at_window IS DISTINCT FROM NEW.accepted_at_window
      OR OLD.in_person IS DISTINCT FROM NEW.in_person)
    EXECUTE FUNCTION cases_figures_dirty();

CREATE FUNCTION complaints_figures_dirty() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM figures_mark('complaint_created', OLD.created_at);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM figures_mark('complaint_created', NEW.created_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER complaints_figures_insert AFTER INSERT OR DELETE ON complaints
    FOR EACH ROW EXECUTE FUNCTION complaints_figures_dirty();
CREATE TRIGGER complaints_figures_update AFTER UPDATE ON complaints FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.department IS DISTINCT FROM NEW.department
      OR OLD.status IS DISTINCT FROM NEW.status OR OLD.responded_on_time IS DISTINCT FROM NEW.responded_on_time
      OR OLD.callback_at IS DISTINCT FROM NEW.callback_at
      OR OLD.callback_resolved IS DISTINCT FROM NEW.callback_resolved
      OR OLD.callback_satisfied IS DISTINCT FROM NEW.callback_satisfied)
    EXECUTE FUNCTION complaints_figures_dirty();

CREATE FUNCTION ratings_figures_dirty() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM figures_mark('rating_created', OLD.created_at);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM figures_mark('rating_created', NEW.created_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ratings_figures_insert AFTER INSERT OR DELETE ON ratings
    FOR EACH ROW EXECUTE FUNCTION ratings_figures_dirty();
CREATE TRIGGER ratings_figures_update AFTER UPDATE ON ratings FOR EACH ROW
    WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.department IS DISTINCT FROM NEW.department
      OR OLD.excluded IS DISTINCT FROM NEW.excluded OR OLD.score IS DISTINCT FROM NEW.score)
    EXECUTE FUNCTION ratings_figures_dirty();

-- A bad review's rectification counts on the day the review was given.
CREATE FUNCTION rectifications_figures_dirty() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM figures_mark('rating_created', (SELECT created_at FROM ratings WHERE id = OLD.rating_id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM figures_mark('rating_created', (SELECT created_at FROM ratings WHERE id = NEW.rating_id));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER rectifications_figures_insert AFTER INSERT OR DELETE ON rectifications
    FOR EACH ROW EXECUTE FUNCTION rectifications_figures_dirty();
CREATE TRIGGER rectifications_figures_update AFTER UPDATE ON rectifications FOR EACH ROW
    WHEN (OLD.rating_id IS DISTINCT FROM NEW.rating_id OR OLD.rectified_at IS DISTINCT FROM NEW.rectified_at
      OR OLD.on_time IS DISTINCT FROM NEW.on_time)
    EXECUTE FUNCTION rectifications_figures_dirty();
