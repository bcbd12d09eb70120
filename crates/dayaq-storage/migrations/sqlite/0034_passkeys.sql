-- Passkeys / security keys (WebAuthn) as a second factor, recovery codes, and the per-role
-- "passkey mandatory" setting (issue 22 §2).
-- `user_passkeys`: a user's registered credentials. `credential` is the webauthn-rs `Passkey`
-- as JSON (credential id, public key, signature counter: no secret); `name` is the label the
-- user chose ("office key"), never shown to anyone else.
-- `webauthn_challenges`: a ceremony's server-side state between its two requests, bound to
-- the user and the session that began it; taken (deleted) once, refused after `expires_at`.
-- `recovery_codes`: Argon2id hashes of one-time codes; `lookup` (the first four characters of
-- the code) picks the row to verify; regenerating deletes the old set.
-- `passkey_required_roles`: roles whose members must sign in with a passkey (no TOTP).
-- Keep in step with the other engine's 0034_passkeys.sql.
CREATE TABLE user_passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    credential_id TEXT NOT NULL UNIQUE,
    credential TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);
CREATE INDEX user_passkeys_user ON user_passkeys(user_id);

CREATE TABLE webauthn_challenges (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    session_id TEXT NOT NULL,
    purpose TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_challenges_user ON webauthn_challenges(user_id);

CREATE TABLE recovery_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    lookup TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id, lookup);

CREATE TABLE passkey_required_roles (
    role TEXT PRIMARY KEY,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
