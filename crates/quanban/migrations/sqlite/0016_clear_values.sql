-- Start-up seals personal data stored in clear before sealing existed (see platform::pii). Each
-- of its queries names exactly the rows still in clear, and these partial indexes hold exactly
-- those rows (none, once sealed), so that a restart on a year of a city's data finds them
-- without reading a million forms.
CREATE INDEX cases_form_in_clear ON cases (number) WHERE form NOT LIKE '%sm4gcm:%';
CREATE INDEX complaints_phone_in_clear ON complaints (id)
    WHERE complainant_phone IS NOT NULL AND complainant_phone <> '' AND complainant_phone NOT LIKE 'sm4gcm:%';
CREATE INDEX assistance_phone_in_clear ON assistance_requests (id)
    WHERE contact_phone IS NOT NULL AND contact_phone <> '' AND contact_phone NOT LIKE 'sm4gcm:%';
CREATE INDEX outbox_recipient_in_clear ON outbox (id)
    WHERE recipient IS NOT NULL AND recipient <> '' AND recipient NOT LIKE 'sm4gcm:%';
CREATE INDEX users_not_digested ON users (id)
    WHERE kind = 'person' AND (phone_digest IS NULL OR id_number_digest IS NULL);
