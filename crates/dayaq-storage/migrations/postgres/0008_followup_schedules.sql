-- Per-organisation default follow-up schedule (months after the end of short-term assistance).
-- New follow-up plans of the organisation's cases use it unless the case sets its own months.
-- Keep in step with the other engine's 0008_followup_schedules.sql.

CREATE TABLE followup_org_schedules (
    org_id TEXT PRIMARY KEY REFERENCES organisations(id),
    months TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
