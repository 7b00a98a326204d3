-- Indexes for the filters that match one of several columns. `resource` matches type, id or
-- name and `actor` name or id; each alternative is read as its own branch off a
-- `(column, seq)` index, newest first, so every column needs one (type and actor id had none).
CREATE INDEX audit_entries_resource_type ON audit_entries (resource_type, seq);
CREATE INDEX audit_entries_actor_id ON audit_entries (actor_id, seq);
