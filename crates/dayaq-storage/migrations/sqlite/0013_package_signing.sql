-- Signed referral packages (issue 14 item 12). Keep in step with the other engine's
-- 0013_package_signing.sql.

-- Each organisation's Ed25519 package-signing key: the secret sealed with the system key.
CREATE TABLE org_signing_keys (
    org_id TEXT PRIMARY KEY REFERENCES organisations(id),
    public_key TEXT NOT NULL,
    secret BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

-- Senders' public keys an administrator accepted on this instance (sender id as the sending
-- instance names it, the name shown as the verified sender).
CREATE TABLE trusted_package_keys (
    public_key TEXT PRIMARY KEY,
    sender_org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    accepted_at BIGINT NOT NULL
);

-- The key that signed an incoming package (its public key), null for outgoing ones.
ALTER TABLE referral_packages ADD COLUMN signed_by TEXT;
