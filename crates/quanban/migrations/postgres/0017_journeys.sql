-- A bundle's part that cannot be applied for online waits, inside the bundle's case, for the
-- applicant's visit to a hall (到厅办理) instead of refusing the whole bundle.
ALTER TABLE cases ADD COLUMN in_person BIGINT NOT NULL DEFAULT 0;

-- The 12345 desk: the call's type (咨询/投诉/求助/建议/表扬); a keyed digest of the caller's
-- number so that an operator can find a caller's earlier complaints (the number itself is
-- sealed); and the operator's idempotency key, so that a form sent twice files one complaint.
ALTER TABLE complaints ADD COLUMN call_type TEXT;
ALTER TABLE complaints ADD COLUMN phone_digest TEXT;
ALTER TABLE complaints ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX complaints_idempotency_key ON complaints (idempotency_key);
CREATE INDEX complaints_phone_digest ON complaints (phone_digest);
-- Start-up digests the numbers stored before this column existed; this index holds exactly
-- those rows (none once done), so a restart does not read every complaint.
CREATE INDEX complaints_phone_not_digested ON complaints (id)
    WHERE complainant_phone IS NOT NULL AND complainant_phone <> '' AND phone_digest IS NULL;
