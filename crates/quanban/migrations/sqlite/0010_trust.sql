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

-- Personal data at rest: ID and mobile numbers sealed (SM4-GCM, in the existing columns), with
-- keyed digests for lookups and uniqueness; a person's login name becomes the digest of their
-- number. Rows stored in clear before this are sealed at start-up (SQL cannot do SM4).
ALTER TABLE users ADD COLUMN id_number_digest TEXT;
ALTER TABLE users ADD COLUMN phone_digest TEXT;
ALTER TABLE users ADD COLUMN phone_masked TEXT;
CREATE UNIQUE INDEX users_id_number_digest ON users (id_number_digest);
CREATE INDEX users_phone_digest ON users (phone_digest);
