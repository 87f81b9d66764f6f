-- The guide learns from its guidance officers: an answer to a hand-off may name the catalogue
-- items or bundles that answer the question (a JSON array of codes; NULL when none). Later
-- questions worded like it find those first.
ALTER TABLE guide_handoffs ADD COLUMN answer_items TEXT;
