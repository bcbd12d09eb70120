-- The audit head's seal: a keyed MAC (HMAC-SHA-256 under a subkey of the master key, which is
-- not in the database) over the sealed head's (seq, hash). See audit::seal_head.
-- An existing database stays unsealed until `dayaq audit seal` (after a clean verify).
-- Keep in step with the other engine's file.
ALTER TABLE audit_head ADD COLUMN mac_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN mac_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_head ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_head ADD COLUMN mac_key_id TEXT NOT NULL DEFAULT '';
