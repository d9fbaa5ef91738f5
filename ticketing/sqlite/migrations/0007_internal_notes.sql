-- Staff-only timeline entries: a note marked internal (the default for
-- staff) is not shown to the customer.
ALTER TABLE ticket_events ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1));
