-- Dayaq foundation schema (PostgreSQL). Keep in step with migrations/sqlite/0001_foundation.sql:
-- the same tables, columns and indexes; only types differ (BLOB in SQLite, BYTEA here).
-- Times are UNIX milliseconds (BIGINT); identifiers are UUID text.

CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    org_type TEXT NOT NULL,
    region TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret BYTEA,
    totp_enabled BIGINT NOT NULL DEFAULT 0,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    locale TEXT NOT NULL DEFAULT 'az',
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE login_failures (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    source TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures(user_id, at);
CREATE INDEX login_failures_source ON login_failures(source, at);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    public_id TEXT NOT NULL UNIQUE,
    csrf TEXT NOT NULL,
    mfa_ok BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    user_agent TEXT NOT NULL,
    source TEXT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Keys wrapped by the master key (blind-index key, system key for TOTP secrets).
CREATE TABLE keyring (
    name TEXT PRIMARY KEY,
    master_key_id TEXT NOT NULL,
    wrapped BYTEA NOT NULL
);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    case_number TEXT NOT NULL UNIQUE,
    owner_org_id TEXT NOT NULL REFERENCES organisations(id),
    created_by TEXT NOT NULL,
    version BIGINT NOT NULL,
    cas_status TEXT NOT NULL,
    vic_trafficking_status TEXT NOT NULL,
    prs_gender TEXT,
    age_when_trafficked BIGINT,
    age_band TEXT,
    identity BYTEA,
    closure BYTEA,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    erased_at BIGINT
);
CREATE INDEX cases_owner ON cases(owner_org_id, updated_at);

-- Multi-valued HTCDS attributes that are not identifying (prs_Citizenship,
-- vic_TypeOfExploitation, ...), one row per value, for statistics.
CREATE TABLE case_values (
    case_id TEXT NOT NULL REFERENCES cases(id),
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (case_id, field, value)
);
CREATE INDEX case_values_field ON case_values(field, value);

-- Per-case data key wrapped by the master key. Deleting the row crypto-shreds the case.
CREATE TABLE case_keys (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    master_key_id TEXT NOT NULL,
    wrapped BYTEA NOT NULL
);

-- Keyed blind index (HMAC) for exact search and duplicate detection.
CREATE TABLE blind_index (
    case_id TEXT NOT NULL REFERENCES cases(id),
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (case_id, kind, digest)
);
CREATE INDEX blind_index_lookup ON blind_index(kind, digest);

-- Case timeline: what happened, never personal data.
CREATE TABLE case_events (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    at BIGINT NOT NULL,
    actor_user TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events(case_id, at);

-- Append-only, hash-chained audit log.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_user TEXT NOT NULL,
    actor_org TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    case_id TEXT NOT NULL,
    source TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_case ON audit_log(case_id);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
