-- One-time form tokens (issue #23 §3): a repeated POST of the same screen form (double click,
-- resend after a slow answer) makes one record and gets the first answer. `key_hash` is the
-- SHA-256 of the user, the form's path, its one-time token and its posted bytes (never the
-- values themselves); `outcome` is the page the first submission was sent to (a path with a
-- case id and a fixed `done` code, no personal data), NULL while it is still being handled.
-- Ephemeral: rows expire after an hour, are neither backed up nor restored.
-- Keep in step with the other engine's 0025_form_tokens.sql.
CREATE TABLE form_tokens (
    key_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    outcome TEXT
);
CREATE INDEX form_tokens_expiry ON form_tokens(expires_at);
