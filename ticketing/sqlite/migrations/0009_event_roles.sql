-- The role of the person behind a timeline entry (engineer, manager,
-- admin, customer), beside their name.
ALTER TABLE ticket_events ADD COLUMN role TEXT NOT NULL DEFAULT '';
