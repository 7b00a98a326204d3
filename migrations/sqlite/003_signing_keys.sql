-- Ed25519 keys that sign export manifests. The private key is kept encrypted under
-- SECRET_KEY (AES-256-GCM, key from HKDF-SHA256; see src/export/key-wrap.ts). Retired keys
-- stay, public half and all, so exports signed before a rotation still verify.
CREATE TABLE signing_keys (
  key_id          TEXT PRIMARY KEY,           -- first 16 hex digits of SHA-256(raw public key)
  public_key      TEXT NOT NULL UNIQUE,       -- base64url of the raw 32-byte public key
  private_key_enc TEXT NOT NULL,              -- v1.<salt>.<iv>.<ciphertext>.<tag>, base64url parts
  current_slot    INTEGER UNIQUE CHECK (current_slot = 1), -- 1 on the one current key, NULL once retired
  created_at      INTEGER NOT NULL,           -- ms since the epoch, UTC
  retired_at      INTEGER,
  CHECK ((current_slot IS NULL) = (retired_at IS NOT NULL))
);
