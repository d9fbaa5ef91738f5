-- Idempotency-Key of ticket-creating API requests: a client that lost the
-- answer (a kill, a dropped connection) retries with the same key and gets
-- the ticket it already created. scope is who asked, so that two clients'
-- keys never collide; fingerprint is the request's hash, so that a key
-- reused for another request is refused.
CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL CHECK (key <> ''),
    fingerprint TEXT NOT NULL,
    ticket_id   TEXT NOT NULL REFERENCES tickets (id),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
