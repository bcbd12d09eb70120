-- The caseload list's per-organisation setting (issue 23 §7): what the list shows as a case's
-- name — none (default), initials (computed from the decrypted identity, audited) or a
-- pseudonym derived from the case id. Keep in step with the other engine's 0028.

CREATE TABLE org_caseload_settings (
    org_id TEXT PRIMARY KEY REFERENCES organisations(id),
    display_name TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
