-- Signed statements of the chain head, taken periodically (only when the log grew).
CREATE TABLE checkpoints (
  seq        BIGINT PRIMARY KEY,                   -- the head entry the statement covers
  hash       TEXT NOT NULL,
  statement  TEXT NOT NULL,                        -- canonical JSON that was signed
  key_id     TEXT NOT NULL,
  signature  TEXT NOT NULL,                        -- Ed25519, base64url
  created_at BIGINT NOT NULL
);
