-- The department assessment sums a period's cases, ratings, complaints, tasks and requests per
-- department. These indexes hold every column those sums read, so a period is summed from the
-- index alone (a case row carries its whole form; reading the table for a year of a city's cases
-- took seconds, the index a fraction of that).
CREATE INDEX cases_decided ON cases(decided_at, kind, department, due_on, accepted_on, promised_days, paused_days);
CREATE INDEX cases_submitted ON cases(submitted_at, kind, department, item_code, state, accepted_at_window, in_person);
CREATE INDEX cases_due ON cases(due_on, kind, department, decided_at, state);
CREATE INDEX ratings_created ON ratings(created_at, department, excluded, score);
CREATE INDEX complaints_assessed ON complaints(created_at, department, status, responded_on_time, callback_at, callback_resolved, callback_satisfied);
CREATE INDEX proactive_tasks_created ON proactive_tasks(created_at, department, status);
CREATE INDEX data_requests_requested ON data_requests(requested_at, owner, status, due_on, decided_at);
