-- What a person or monitoring decided outside a ticket row and must
-- survive a restart (maintenance windows made through the API, for a
-- start): one JSON body per (kind, id), written by the agent.
CREATE TABLE records (
    kind TEXT NOT NULL CHECK (kind != ''),
    id   TEXT NOT NULL CHECK (id != ''),
    body TEXT NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;
