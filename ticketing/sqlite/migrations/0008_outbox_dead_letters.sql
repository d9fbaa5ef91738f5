-- Dead letters: a message a receiver refused for good (an SMTP 5xx, a
-- webhook 4xx other than 408/429) or that failed too often waits for a
-- person (nocagent outbox retry) instead of being retried forever, and no
-- longer holds back the messages after it.
ALTER TABLE outbox ADD COLUMN dead_at TEXT;
