-- Single sign-on with OpenID Connect (issue 22 §1).
-- `org_oidc`: an organisation's identity provider (at most one): the issuer URL, Dayaq's
-- callback URL as registered there, the client id, the PATH of the file holding the client
-- secret (the secret itself is never stored here), the allowed e-mail domains (comma-separated, empty = any), the claim carrying roles and its
-- value → role map (lines `value=role`), and whether its users may still sign in with a local
-- password (`local_passwords_allowed` 0/1).
-- `oidc_links`: which (issuer, subject) signs in as which account; made by an administrator
-- before the first sign-in (an unknown subject is refused; never matched by e-mail).
-- `oidc_pending`: one row per started sign-in, found by the SHA-256 of its `state`, bound to
-- the browser by the SHA-256 of a cookie value, holding the nonce and the PKCE verifier; taken
-- (deleted) by the first callback that names it, and dead after `expires_at`.
-- Keep in step with the other engine's 0033_oidc.sql.
CREATE TABLE org_oidc (
    org_id TEXT PRIMARY KEY REFERENCES organisations(id),
    display_name TEXT NOT NULL,
    issuer TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    client_id TEXT NOT NULL,
    secret_file TEXT NOT NULL,
    allowed_domains TEXT NOT NULL,
    role_claim TEXT NOT NULL,
    role_map TEXT NOT NULL,
    local_passwords_allowed BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE oidc_links (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);

CREATE TABLE oidc_pending (
    state_hash TEXT PRIMARY KEY,
    binding_hash TEXT NOT NULL,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    next_path TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oidc_pending_expiry ON oidc_pending(expires_at);
