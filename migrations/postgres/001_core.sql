-- Trailmark core schema (PostgreSQL). Times are milliseconds since the Unix epoch, UTC.

-- Partitioned by month of ts so retention drops whole old partitions (Trailmark creates the
-- monthly partitions ahead of time; the default partition only catches what falls outside).
CREATE TABLE audit_entries (
  seq               BIGINT NOT NULL,               -- gap-free, assigned by the chain writer
  id                TEXT NOT NULL,                 -- UUIDv7
  ts                BIGINT  NOT NULL,              -- recorded time; never decreases with seq
  occurred_at       BIGINT ,                       -- producer's own time for the event, if given
  action            TEXT NOT NULL,
  category          TEXT NOT NULL,
  severity          TEXT NOT NULL,
  actor_type        TEXT NOT NULL,
  actor_id          TEXT,
  actor_name        TEXT,
  resource_type     TEXT NOT NULL,
  resource_id       TEXT NOT NULL,
  resource_name     TEXT,
  description       TEXT NOT NULL,
  details           TEXT NOT NULL,                 -- canonical JSON, exactly the hashed bytes
  source_ip         TEXT,
  source_user_agent TEXT,
  source_token_id   TEXT,
  request_id        TEXT,
  prev_hash         TEXT NOT NULL,
  hash              TEXT NOT NULL,
  search            tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(
                      action || ' ' || coalesce(actor_name, '') || ' ' || description || ' ' ||
                      coalesce(resource_name, '') || ' ' || resource_id, '[^[:alnum:]]+', ' ', 'g'))) STORED,
  PRIMARY KEY (seq, ts)
) PARTITION BY RANGE (ts);
CREATE TABLE audit_entries_default PARTITION OF audit_entries DEFAULT;
CREATE INDEX audit_entries_id ON audit_entries (id);
-- Every filter index ends in seq, so a filtered page reads newest-first straight off it.
CREATE INDEX audit_entries_ts ON audit_entries (ts);
CREATE INDEX audit_entries_action ON audit_entries (action, seq);
CREATE INDEX audit_entries_severity ON audit_entries (severity, seq);
CREATE INDEX audit_entries_actor_name ON audit_entries (actor_name, seq);
CREATE INDEX audit_entries_resource_id ON audit_entries (resource_id, seq);
CREATE INDEX audit_entries_resource_name ON audit_entries (resource_name, seq);

-- Search over event type, actor, description and resource.
CREATE INDEX audit_entries_search ON audit_entries USING gin (search);

-- The head of the chain (seq, hash, ts of the newest entry) and the anchor verification
-- starts from: genesis, or the last entry a retention purge removed.
CREATE TABLE audit_chain_head (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  seq         BIGINT NOT NULL,
  hash        TEXT NOT NULL,
  ts          BIGINT  NOT NULL,
  anchor_seq  BIGINT NOT NULL,
  anchor_hash TEXT NOT NULL
);
INSERT INTO audit_chain_head (id, seq, hash, ts, anchor_seq, anchor_hash)
VALUES (1, 0, '6c83a1ac38a5483025bf60a5e7543951cb6722b5aebf093b92eb2a5f786edb03', 0, 0, '6c83a1ac38a5483025bf60a5e7543951cb6722b5aebf093b92eb2a5f786edb03');

CREATE TABLE users (
  id                  TEXT PRIMARY KEY,
  username            TEXT NOT NULL UNIQUE,
  password_hash       TEXT NOT NULL,
  role                TEXT NOT NULL,
  disabled            INTEGER NOT NULL DEFAULT 0,
  failed_count        INTEGER NOT NULL DEFAULT 0,
  failed_window_start BIGINT ,
  locked_until        BIGINT ,
  created_at          BIGINT  NOT NULL,
  updated_at          BIGINT  NOT NULL
);

CREATE TABLE sessions (
  id_hash      TEXT PRIMARY KEY,                   -- SHA-256 of the cookie value
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token   TEXT NOT NULL,
  created_at   BIGINT  NOT NULL,
  last_seen_at BIGINT  NOT NULL,
  ip           TEXT,
  user_agent   TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL,
  secret_hash  TEXT NOT NULL,                      -- SHA-256 of the token's secret part
  scopes       TEXT NOT NULL,                      -- space-separated
  created_by   TEXT,
  created_at   BIGINT  NOT NULL,
  revoked_at   BIGINT ,
  last_used_at BIGINT 
);

CREATE TABLE settings (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,                        -- JSON
  updated_at BIGINT  NOT NULL
);
