-- When a waiting case last reached a window (its submission, a resubmission after a 补正 asked
-- before acceptance, or a transfer): the window's days to accept count from it. It was read from
-- `updated_at`, which holds only while nothing else ever touches a waiting case.
ALTER TABLE cases ADD COLUMN window_since TEXT;
UPDATE cases SET window_since = updated_at WHERE state = 'submitted';
