-- Indexes for the filters that match one of several columns. `resource` matches type, id or
-- name and `actor` name or id; each alternative is read as its own branch off a
-- `(column, seq)` index, newest first, so every column needs one (type and actor id had none).
CREATE INDEX audit_entries_resource_type ON audit_entries (resource_type, seq);
CREATE INDEX audit_entries_actor_id ON audit_entries (actor_id, seq);

-- A time window is turned into a seq range by finding the first entry at or after its start
-- (and the last at or before its end) in (ts, seq) order. On `(ts)` alone PostgreSQL would
-- sort every entry sharing that ts (a burst recorded at one instant) to pick one; `(ts, seq)`
-- answers with one index probe and serves everything `(ts)` did, so it replaces it.
CREATE INDEX audit_entries_ts_seq ON audit_entries (ts, seq);
DROP INDEX audit_entries_ts;
