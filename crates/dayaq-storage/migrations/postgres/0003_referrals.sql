-- Referral mechanism: service directory, referrals, break-glass, notifications, and the
-- criminal-justice link (used by eligibility rules). Keep in step with the postgres file.

CREATE TABLE org_services (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    service TEXT NOT NULL,
    region TEXT NOT NULL,
    city TEXT NOT NULL,
    languages TEXT NOT NULL,
    opening_hours TEXT NOT NULL,
    capacity BIGINT,
    requires_police_cooperation BIGINT NOT NULL,
    requires_criminal_case BIGINT NOT NULL,
    requires_identified_victim BIGINT NOT NULL,
    women_only BIGINT NOT NULL,
    children_only BIGINT NOT NULL,
    adults_only BIGINT NOT NULL,
    UNIQUE (org_id, service)
);
CREATE INDEX org_services_service ON org_services(service, region);

CREATE TABLE referrals (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    from_org TEXT NOT NULL,
    to_org TEXT NOT NULL,
    services TEXT NOT NULL,
    reason TEXT NOT NULL,
    details BYTEA,
    state TEXT NOT NULL,
    consent_override BYTEA,
    override_by TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    responded_by TEXT,
    responded_at BIGINT,
    decline_reason TEXT,
    ended_at BIGINT
);
CREATE INDEX referrals_case ON referrals(case_id);
CREATE INDEX referrals_to ON referrals(to_org, state);
CREATE INDEX referrals_from ON referrals(from_org, state);

CREATE TABLE break_glass (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    user_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    reason BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX break_glass_case ON break_glass(case_id, expires_at);

-- In-app notifications carry only a kind and an id, never personal data.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    role TEXT,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_org ON notifications(org_id, created_at);

CREATE TABLE case_legal (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    criminal_case_ref BYTEA,
    cooperation TEXT NOT NULL,
    witness BIGINT NOT NULL,
    compensation_claim BIGINT NOT NULL,
    non_punishment BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
