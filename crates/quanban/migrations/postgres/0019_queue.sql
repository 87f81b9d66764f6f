-- The queue at a hall: the service chosen when taking a number (printed on the slip); a
-- number can be cancelled by its holder; a window recalls (重呼) or passes over (过号) the
-- number it called. Status: waiting | called | done | skipped | cancelled.
ALTER TABLE queue_tickets ADD COLUMN item_code TEXT;
ALTER TABLE queue_tickets ADD COLUMN recalls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_tickets ADD COLUMN recalled_at TEXT;
ALTER TABLE queue_tickets ADD COLUMN finished_at TEXT;
