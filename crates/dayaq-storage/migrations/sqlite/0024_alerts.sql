-- Access-anomaly alerts (issue #18 part 2). An alert is raised by a rule over audit rows
-- (`alert_rows` links it to their `audit_log.seq`; rows may later be archived, the link stays);
-- `dedup_key` is the rule's deterministic key, so re-evaluating the same rows raises nothing
-- new. `org_id` is the organisation whose administrator sees it ('' = auditors only). The
-- acknowledgement note is short plain text (at most 200 characters, one line, no case
-- content). `alert_state` holds the evaluation cursors: `last_seq` (rules judged at once) and
-- `deferred_seq` (the search rule, judged once its window has passed).
-- Keep in step with the other engine's 0024_alerts.sql.
CREATE TABLE alerts (
    id TEXT PRIMARY KEY,
    dedup_key TEXT NOT NULL UNIQUE,
    rule TEXT NOT NULL,
    severity TEXT NOT NULL,
    org_id TEXT NOT NULL,
    subject_user TEXT NOT NULL,
    subject_source TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    ack_by TEXT,
    ack_at BIGINT,
    ack_note TEXT
);
CREATE INDEX alerts_org_raised ON alerts(org_id, raised_at);
CREATE INDEX alerts_state_rule ON alerts(state, rule);

CREATE TABLE alert_rows (
    alert_id TEXT NOT NULL REFERENCES alerts(id),
    seq BIGINT NOT NULL,
    PRIMARY KEY (alert_id, seq)
);

CREATE TABLE alert_state (
    id BIGINT PRIMARY KEY,
    last_seq BIGINT NOT NULL,
    deferred_seq BIGINT NOT NULL
);
INSERT INTO alert_state (id, last_seq, deferred_seq) VALUES (1, 0, 0);
