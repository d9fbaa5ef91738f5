-- Tickets, their evidence, their append-only timeline and the outbox.
-- Times are UTC text in a fixed-width RFC 3339 form, so they sort and compare
-- as strings.

CREATE TABLE tickets (
    seq          INTEGER PRIMARY KEY,           -- the number in the human id; never reused
    id           TEXT    NOT NULL UNIQUE,       -- e.g. NOC-000042
    dedup_key    TEXT    NOT NULL,              -- device name / category
    state        TEXT    NOT NULL CHECK (state IN ('new', 'acknowledged', 'in_progress', 'resolved', 'verified', 'confirmed', 'closed', 'cancelled')),
    priority     TEXT    NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    category     TEXT    NOT NULL,
    source       TEXT    NOT NULL CHECK (source IN ('monitoring', 'manual')),
    fingerprint  TEXT    NOT NULL DEFAULT '',
    title        TEXT    NOT NULL,
    device_name  TEXT    NOT NULL,
    customer     TEXT    NOT NULL DEFAULT '',
    device       TEXT    NOT NULL CHECK (json_valid(device)), -- DeviceContext as opened
    opened_at    TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    resolved_at  TEXT,
    resolved_by  TEXT    NOT NULL DEFAULT '',
    reopen_count INTEGER NOT NULL DEFAULT 0
) STRICT;

-- The one-open-ticket-per-(device, category) rule, enforced by the database
-- too, so a bug or a second writer cannot break it.
CREATE UNIQUE INDEX tickets_one_open_per_key ON tickets (dedup_key)
    WHERE state IN ('new', 'acknowledged', 'in_progress');
CREATE INDEX tickets_by_key ON tickets (dedup_key, seq);
CREATE INDEX tickets_by_state ON tickets (state, seq);
CREATE INDEX tickets_by_customer ON tickets (customer, seq);
CREATE INDEX tickets_by_device ON tickets (device_name, seq);

CREATE TABLE ticket_evidence (
    id          INTEGER PRIMARY KEY,
    ticket_id   TEXT    NOT NULL REFERENCES tickets (id),
    fingerprint TEXT    NOT NULL,
    rule        TEXT    NOT NULL,
    instance    TEXT    NOT NULL DEFAULT '',
    severity    TEXT    NOT NULL DEFAULT '',
    priority    TEXT    NOT NULL DEFAULT '',
    value       REAL    NOT NULL,
    threshold   REAL    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT '',
    at          TEXT    NOT NULL,
    firing      INTEGER NOT NULL CHECK (firing IN (0, 1)),
    cleared_at  TEXT
) STRICT;

CREATE UNIQUE INDEX ticket_evidence_one_firing ON ticket_evidence (ticket_id, fingerprint)
    WHERE firing = 1;
CREATE INDEX ticket_evidence_by_ticket ON ticket_evidence (ticket_id, id);

CREATE TABLE ticket_events (
    ticket_id  TEXT    NOT NULL REFERENCES tickets (id),
    seq        INTEGER NOT NULL CHECK (seq > 0),
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    from_value TEXT    NOT NULL DEFAULT '',
    to_value   TEXT    NOT NULL DEFAULT '',
    note       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (ticket_id, seq)
) STRICT;

-- The timeline is the audit log: the database refuses to rewrite it.
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only: UPDATE refused');
END;

CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
BEGIN
    SELECT RAISE(ABORT, 'ticket_events is append-only: DELETE refused');
END;

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    ticket_id       TEXT    NOT NULL,
    event_seq       INTEGER NOT NULL,
    event_id        TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    payload         TEXT    NOT NULL CHECK (json_valid(payload)),
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT    NOT NULL DEFAULT '',
    FOREIGN KEY (ticket_id, event_seq) REFERENCES ticket_events (ticket_id, seq),
    UNIQUE (event_id, channel)
) STRICT;

CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_by_ticket_channel ON outbox (ticket_id, channel, id) WHERE delivered_at IS NULL;
