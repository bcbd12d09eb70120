-- The audit viewer and archival (issue #18 parts 1 and 3). Keep in step with the other
-- engine's file.
-- Under which grant the actor reached the case (owner, referral, break_glass; '' = none or
-- no case). Hashed into the row only when not empty, so older rows keep their hashes.
ALTER TABLE audit_log ADD COLUMN access_grant TEXT NOT NULL DEFAULT '';
-- Viewer queries (the case index of 0001 is superseded by the first): newest first within a case, a user, an organisation or an action.
DROP INDEX audit_case;
CREATE INDEX audit_log_case_seq ON audit_log(case_id, seq);
CREATE INDEX audit_log_user_seq ON audit_log(actor_user, seq);
CREATE INDEX audit_log_org_seq ON audit_log(actor_org, seq);
CREATE INDEX audit_log_action_seq ON audit_log(action, seq);
CREATE INDEX audit_log_at ON audit_log(at);
-- Anchors of archived segments: the live chain starts after the last one (audit::verify).
CREATE TABLE audit_archive (
    last_seq BIGINT PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    first_prev_hash TEXT NOT NULL,
    last_hash TEXT NOT NULL,
    row_count BIGINT NOT NULL,
    segment_sha256 TEXT NOT NULL,
    archived_at BIGINT NOT NULL
);
