-- Supervision orders the supervision office issues by hand: who issued one (none: the sweep)
-- and the platform record it is about, if any (the subject stays unique: `manual:<id>`).
ALTER TABLE supervision_orders ADD COLUMN issued_by TEXT;
ALTER TABLE supervision_orders ADD COLUMN about TEXT;
