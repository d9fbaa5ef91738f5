-- A symptom that clears and fires again on the same ticket is the same row,
-- counted, not a new row each time: a flapping port or a trap storm cannot
-- grow a ticket without bound.
ALTER TABLE ticket_evidence ADD COLUMN fires INTEGER NOT NULL DEFAULT 1 CHECK (fires >= 1);
