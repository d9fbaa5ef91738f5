-- The service process: assignment, escalation tier, waiting for the
-- customer, resolution details, closure, manual intake, follow-up tasks,
-- problem records, surveys and the knowledge base.

ALTER TABLE tickets ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN tier INTEGER NOT NULL DEFAULT 1 CHECK (tier BETWEEN 1 AND 3);
ALTER TABLE tickets ADD COLUMN waiting_customer INTEGER NOT NULL DEFAULT 0 CHECK (waiting_customer IN (0, 1));
ALTER TABLE tickets ADD COLUMN cause TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN solution TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN closed_at TEXT;
ALTER TABLE tickets ADD COLUMN due_at TEXT;
ALTER TABLE tickets ADD COLUMN parent_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN problem_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN intake TEXT CHECK (intake IS NULL OR json_valid(intake));

CREATE INDEX tickets_open_by_assignee ON tickets (assignee)
    WHERE state IN ('new', 'acknowledged', 'in_progress');
CREATE INDEX tickets_by_fingerprint ON tickets (fingerprint, opened_at);
CREATE INDEX tickets_by_opened ON tickets (opened_at);
CREATE INDEX tickets_by_problem ON tickets (problem_id) WHERE problem_id != '';

CREATE TABLE problems (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,       -- PRB-000001
    fingerprint TEXT    NOT NULL,
    title       TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('open', 'closed')),
    opened_at   TEXT    NOT NULL
) STRICT;

-- One open problem per fingerprint, whoever writes.
CREATE UNIQUE INDEX problems_one_open_per_fingerprint ON problems (fingerprint) WHERE state = 'open';

CREATE TABLE surveys (
    ticket_id    TEXT NOT NULL PRIMARY KEY REFERENCES tickets (id), -- one answer per ticket
    customer     TEXT NOT NULL,
    rating       TEXT NOT NULL CHECK (rating IN ('very_satisfied', 'satisfied', 'neutral', 'unsatisfied')),
    comment      TEXT NOT NULL DEFAULT '',
    actor        TEXT NOT NULL,
    at           TEXT NOT NULL,
    follow_up_id TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX surveys_by_customer ON surveys (customer, at);

CREATE TABLE kb_articles (
    id         INTEGER PRIMARY KEY,
    ticket_id  TEXT NOT NULL REFERENCES tickets (id),
    category   TEXT NOT NULL,
    rule       TEXT NOT NULL DEFAULT '',
    vendor     TEXT NOT NULL DEFAULT '',
    model      TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL,
    cause      TEXT NOT NULL,
    solution   TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
