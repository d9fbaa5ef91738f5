-- The whole ticket store as of SQLite migration 0003: tickets, evidence,
-- impacted devices, the append-only timeline, the outbox (with claims for
-- several dispatchers), problem records, surveys and the knowledge base.
-- Times are timestamptz (UTC on the wire); JSON documents are jsonb.

-- Gapless human numbers: the row is locked by the transaction that takes a
-- number until it commits, and a rollback returns the number, so NOC-000042
-- is never skipped nor reused and numbers grow in commit order.
CREATE TABLE counters (
    name  text   PRIMARY KEY,
    value bigint NOT NULL CHECK (value >= 0)
);
INSERT INTO counters (name, value) VALUES ('ticket', 0), ('problem', 0);

CREATE TABLE tickets (
    seq              bigint      PRIMARY KEY CHECK (seq > 0), -- the number in the human id
    id               text        NOT NULL UNIQUE,             -- e.g. NOC-000042
    dedup_key        text        NOT NULL,                    -- device name / category
    state            text        NOT NULL CHECK (state IN ('new', 'acknowledged', 'in_progress', 'resolved', 'verified', 'confirmed', 'closed', 'cancelled')),
    priority         text        NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    category         text        NOT NULL,
    source           text        NOT NULL CHECK (source IN ('monitoring', 'manual')),
    fingerprint      text        NOT NULL DEFAULT '',
    title            text        NOT NULL,
    device_name      text        NOT NULL,
    customer         text        NOT NULL DEFAULT '',
    device           jsonb       NOT NULL,                    -- DeviceContext as opened
    opened_at        timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    resolved_at      timestamptz,
    resolved_by      text        NOT NULL DEFAULT '',
    reopen_count     integer     NOT NULL DEFAULT 0,
    assignee         text        NOT NULL DEFAULT '',
    tier             integer     NOT NULL DEFAULT 1 CHECK (tier BETWEEN 1 AND 3),
    waiting_customer boolean     NOT NULL DEFAULT false,
    cause            text        NOT NULL DEFAULT '',
    solution         text        NOT NULL DEFAULT '',
    closed_at        timestamptz,
    due_at           timestamptz,
    parent_id        text        NOT NULL DEFAULT '',
    problem_id       text        NOT NULL DEFAULT '',
    intake           jsonb
);

-- One open ticket per (device, category), whichever agent writes: the
-- database is the last word when several agents share it.
CREATE UNIQUE INDEX tickets_one_open_per_key ON tickets (dedup_key)
    WHERE state IN ('new', 'acknowledged', 'in_progress');
CREATE INDEX tickets_by_key ON tickets (dedup_key, seq);
CREATE INDEX tickets_by_state ON tickets (state, seq);
CREATE INDEX tickets_by_customer ON tickets (customer, seq);
CREATE INDEX tickets_by_device ON tickets (device_name, seq);
CREATE INDEX tickets_open_by_assignee ON tickets (assignee)
    WHERE state IN ('new', 'acknowledged', 'in_progress');
CREATE INDEX tickets_by_fingerprint ON tickets (fingerprint, opened_at);
CREATE INDEX tickets_by_opened ON tickets (opened_at);
CREATE INDEX tickets_by_problem ON tickets (problem_id) WHERE problem_id <> '';

CREATE TABLE ticket_evidence (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id   text        NOT NULL REFERENCES tickets (id),
    fingerprint text        NOT NULL,
    rule        text        NOT NULL,
    instance    text        NOT NULL DEFAULT '',
    severity    text        NOT NULL DEFAULT '',
    priority    text        NOT NULL DEFAULT '',
    value       double precision NOT NULL,
    threshold   double precision NOT NULL,
    summary     text        NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    firing      boolean     NOT NULL,
    cleared_at  timestamptz
);

CREATE UNIQUE INDEX ticket_evidence_one_firing ON ticket_evidence (ticket_id, fingerprint) WHERE firing;
CREATE INDEX ticket_evidence_by_ticket ON ticket_evidence (ticket_id, id);

CREATE TABLE ticket_impacted (
    ticket_id    text        NOT NULL REFERENCES tickets (id),
    name         text        NOT NULL CHECK (name <> ''),
    serial       text        NOT NULL DEFAULT '',
    customer     text        NOT NULL DEFAULT '',
    added_at     timestamptz NOT NULL,  -- when last attached
    recovered_at timestamptz,           -- NULL while still cut off
    PRIMARY KEY (ticket_id, name)
);

CREATE INDEX ticket_impacted_by_customer ON ticket_impacted (customer, ticket_id);

CREATE TABLE ticket_events (
    ticket_id  text        NOT NULL REFERENCES tickets (id),
    seq        integer     NOT NULL CHECK (seq > 0),
    at         timestamptz NOT NULL,
    actor      text        NOT NULL,
    kind       text        NOT NULL,
    from_value text        NOT NULL DEFAULT '',
    to_value   text        NOT NULL DEFAULT '',
    note       text        NOT NULL DEFAULT '',
    PRIMARY KEY (ticket_id, seq)
);

-- The timeline is the audit log: the database refuses to rewrite it. The
-- error is an integrity violation (SQLSTATE 23000), so the store reports it
-- as a conflict like any other broken rule.
CREATE FUNCTION ticket_events_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ticket_events is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$;

CREATE TRIGGER ticket_events_no_update BEFORE UPDATE OR DELETE ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION ticket_events_refuse();
CREATE TRIGGER ticket_events_no_truncate BEFORE TRUNCATE ON ticket_events
    FOR EACH STATEMENT EXECUTE FUNCTION ticket_events_refuse();

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       text        NOT NULL,
    event_seq       integer     NOT NULL,
    event_id        text        NOT NULL,
    kind            text        NOT NULL,
    channel         text        NOT NULL,
    payload         json        NOT NULL,  -- json, not jsonb: the notice is sent byte for byte as queued
    created_at      timestamptz NOT NULL,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_error      text        NOT NULL DEFAULT '',
    -- A dispatcher's lease: until then no other dispatcher takes the row.
    -- Cleared when the attempt is recorded; a crashed dispatcher's lease
    -- simply runs out. claim_batch names the DueOutbox call that took it.
    claimed_until   timestamptz,
    claim_batch     bigint,
    FOREIGN KEY (ticket_id, event_seq) REFERENCES ticket_events (ticket_id, seq),
    UNIQUE (event_id, channel)
);

CREATE SEQUENCE outbox_claim_batches;

CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_by_ticket_channel ON outbox (ticket_id, channel, id) WHERE delivered_at IS NULL;
CREATE INDEX outbox_by_claim_batch ON outbox (claim_batch) WHERE claim_batch IS NOT NULL;

CREATE TABLE problems (
    seq         bigint      PRIMARY KEY CHECK (seq > 0),
    id          text        NOT NULL UNIQUE,       -- PRB-000001
    fingerprint text        NOT NULL,
    title       text        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('open', 'closed')),
    opened_at   timestamptz NOT NULL
);

CREATE UNIQUE INDEX problems_one_open_per_fingerprint ON problems (fingerprint) WHERE state = 'open';

CREATE TABLE surveys (
    ticket_id    text        NOT NULL PRIMARY KEY REFERENCES tickets (id), -- one answer per ticket
    customer     text        NOT NULL,
    rating       text        NOT NULL CHECK (rating IN ('very_satisfied', 'satisfied', 'neutral', 'unsatisfied')),
    comment      text        NOT NULL DEFAULT '',
    actor        text        NOT NULL,
    at           timestamptz NOT NULL,
    follow_up_id text        NOT NULL DEFAULT ''
);

CREATE INDEX surveys_by_customer ON surveys (customer, at);

CREATE TABLE kb_articles (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id  text        NOT NULL REFERENCES tickets (id),
    category   text        NOT NULL,
    rule       text        NOT NULL DEFAULT '',
    vendor     text        NOT NULL DEFAULT '',
    model      text        NOT NULL DEFAULT '',
    title      text        NOT NULL,
    cause      text        NOT NULL,
    solution   text        NOT NULL,
    created_at timestamptz NOT NULL
);
