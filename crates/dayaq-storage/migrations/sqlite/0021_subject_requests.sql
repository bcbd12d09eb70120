-- Data-subject requests (issue #17 part 2): access, correction, restriction, erasure of her
-- record. Codes only in clear; a free-text refusal reason is sealed with the case key
-- (`sealed`), so an erasure shreds it with the case. `export_blob` holds her record as an
-- age file (scrypt passphrase, never stored) until the supervisor downloads it once.
-- Keep in step with the other engine's 0021_subject_requests.sql.
CREATE TABLE subject_requests (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    language TEXT,
    requested_on TEXT NOT NULL,
    state TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    refusal_reason TEXT,
    sealed BLOB,
    changed_fields TEXT,
    completed_at BIGINT,
    export_blob BLOB,
    export_made_at BIGINT,
    export_downloaded_at BIGINT
);
CREATE INDEX subject_requests_case ON subject_requests(case_id, recorded_at);
