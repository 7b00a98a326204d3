-- Scheduled jobs (one run at a time across nodes, by lease) and the webhook outbox.

CREATE TABLE scheduled_jobs (
  name             TEXT PRIMARY KEY,
  next_run_at      INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_until      INTEGER NOT NULL DEFAULT 0,
  last_started_at  INTEGER,
  last_finished_at INTEGER,
  last_status      TEXT,
  last_error       TEXT
);

-- One row per (matched entry, alert rule), written in the entry's own transaction.
CREATE TABLE webhook_outbox (
  delivery_id     TEXT PRIMARY KEY,                -- sent as X-Trailmark-Delivery, same on retries
  rule_id         TEXT NOT NULL,
  entry_seq       INTEGER NOT NULL,
  status          TEXT NOT NULL,                   -- pending | delivered | dead
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  delivered_at    INTEGER,
  last_error      TEXT,
  last_status     INTEGER,
  lease_until     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at);
CREATE INDEX webhook_outbox_rule ON webhook_outbox (rule_id, created_at);
