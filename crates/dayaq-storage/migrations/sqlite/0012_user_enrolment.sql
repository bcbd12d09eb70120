-- Enrolment instead of generated passwords (issue #14, item 9): a new user, or one whose
-- password an administrator reset, gets a one-time link. Only the SHA-256 of its token is
-- stored; it expires (72 h) and is used once. created_by names the acting administrator
-- (a user id, or cli:<os user>).
-- API tokens record when they were last used (item 10), at most once a minute.
-- Keep in step with the other engine's 0012_user_enrolment.sql.

CREATE TABLE user_enrolments (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX user_enrolments_user ON user_enrolments(user_id);

ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
