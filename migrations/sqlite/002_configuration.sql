-- Watched cloud subscriptions and alert rules.

CREATE TABLE subscriptions (
  subscription_id TEXT PRIMARY KEY,                -- lowercase GUID
  display_name    TEXT,
  added_by        TEXT NOT NULL,
  created_at      INTEGER NOT NULL
);

CREATE TABLE alert_rules (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  event_types   TEXT NOT NULL,                     -- JSON array of patterns
  min_severity  TEXT NOT NULL,
  enabled       INTEGER NOT NULL,
  channel_type  TEXT NOT NULL,
  url           TEXT NOT NULL,                     -- AES-256-GCM sealed (query strings may hold keys)
  format        TEXT NOT NULL,
  headers_enc   TEXT,                              -- AES-256-GCM sealed JSON of extra headers
  secret_enc    TEXT,                              -- AES-256-GCM sealed signing secret
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
