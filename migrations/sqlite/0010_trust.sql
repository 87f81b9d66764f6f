-- Open311 publishes only what the complainant agreed to publish, under an identifier that cannot
-- be guessed from the (sequential) complaint number.
ALTER TABLE complaints ADD COLUMN public BIGINT NOT NULL DEFAULT 0;
ALTER TABLE complaints ADD COLUMN public_id TEXT;
UPDATE complaints SET public_id = lower(hex(randomblob(8))) WHERE public_id IS NULL;
-- Reports sent through a GeoReport client were made on a public channel.
UPDATE complaints SET public = 1 WHERE source = 'open311';
CREATE UNIQUE INDEX complaints_public_id ON complaints (public_id);

-- A hall visit is rated only by whoever holds the ticket: the secret handed out with it.
ALTER TABLE queue_tickets ADD COLUMN holder_secret TEXT;

-- Checkpoints are signed with the platform's audit key (derived from a secret that is not in
-- the database), so that a log rewritten and re-hashed by whoever can write the database fails
-- `quanban audit verify --keys`.
ALTER TABLE audit_checkpoints ADD COLUMN signature TEXT;
ALTER TABLE audit_checkpoints ADD COLUMN key_id TEXT;
