-- Retention schedules (issue #17 part 3): an organisation's rules per record kind (months
-- after closure; a kind without a row uses the documented default), and legal holds on cases
-- (a held case is never shredded; the reason is a code from a closed list, never free text).
-- Keep in step with the other engine's 0022_retention.sql.
CREATE TABLE retention_rules (
    org_id TEXT NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL,
    months BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, kind)
);

CREATE TABLE retention_holds (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    org_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    set_by TEXT NOT NULL,
    set_at BIGINT NOT NULL
);
CREATE INDEX retention_holds_org ON retention_holds(org_id);
