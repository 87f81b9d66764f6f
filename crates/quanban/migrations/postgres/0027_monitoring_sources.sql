-- The monitoring sweep reads only what is open in each area; these let it do so without
-- reading whole tables: booked appointments past their slot (no-shows), open post-checks,
-- bad-review loops at a step with a deadline, pending data requests.
CREATE INDEX appointments_open ON appointments(status, slot_end);
CREATE INDEX post_checks_status ON post_checks(status, due_on);
CREATE INDEX rectifications_status ON rectifications(status);
CREATE INDEX data_requests_status ON data_requests(status, due_on);
