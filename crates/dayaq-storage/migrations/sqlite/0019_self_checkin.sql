-- Discreet self check-in (issue 17, part 1): a one-time link and short code a caseworker sends
-- to the survivor over her safe channel. Only the SHA-256 of the link token and of the code are
-- stored; the link dies when answered, revoked or at expires_at. No IP address and no answer
-- text is kept here: her answers become a follow-up contact (channel self_check_in), an
-- assessment and, for "call me", a task. expiry_noted_at records that the expiry was audited.
-- Keep in step with the other engine's 0019_self_checkin.sql.

CREATE TABLE followup_checkins (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    token_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT NOT NULL UNIQUE,
    cover TEXT NOT NULL,
    language TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT,
    revoked_at BIGINT,
    expiry_noted_at BIGINT,
    contact_id TEXT REFERENCES followup_contacts(id),
    task_id TEXT REFERENCES followup_tasks(id)
);
CREATE INDEX followup_checkins_case ON followup_checkins(case_id, created_at);
