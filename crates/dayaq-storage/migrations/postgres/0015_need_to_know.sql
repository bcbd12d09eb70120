-- Need-to-know hardening (issue 14). Keep in step with the other engine's 0015_need_to_know.sql.

-- Why a referral ended early: 'consent_withdrawn' when the survivor's consent that covered it
-- was withdrawn (its grant ends at once, without the grace period). NULL otherwise.
ALTER TABLE referrals ADD COLUMN ended_by TEXT;

-- "Identity exports need a supervisor's approval" (off unless a row says otherwise).
CREATE TABLE org_export_settings (
    org_id TEXT PRIMARY KEY REFERENCES organisations(id),
    approval_required BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A caseworker's request for one export with identities: Pending → Approved (by a supervisor
-- of the organisation, not the requester) → Used (downloaded once).
CREATE TABLE export_requests (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    used_at BIGINT
);
CREATE INDEX export_requests_org ON export_requests(org_id, requested_at);
