-- Topology-aware correlation: the devices cut off behind a ticket's device,
-- attached to its ticket instead of opening their own. A recovered device
-- keeps its row with recovered_at set, so the ticket shows the whole extent
-- of the outage.

CREATE TABLE ticket_impacted (
    ticket_id    TEXT NOT NULL REFERENCES tickets (id),
    name         TEXT NOT NULL CHECK (name != ''),
    serial       TEXT NOT NULL DEFAULT '',
    customer     TEXT NOT NULL DEFAULT '',
    added_at     TEXT NOT NULL,  -- when last attached
    recovered_at TEXT,           -- NULL while still cut off
    PRIMARY KEY (ticket_id, name)
) STRICT;

-- What a customer may see: tickets whose impacted devices are its own.
CREATE INDEX ticket_impacted_by_customer ON ticket_impacted (customer, ticket_id);
