-- API token scopes and webhooks with an outbox (issue 22 §3 and §4).
-- `api_tokens.scope`: what a token may be used for (`read_only`, `case_work`, `statistics`);
-- tokens made before this migration keep what they could do (`case_work`).
-- `webhook_endpoints`: an organisation's receivers (https, or http on loopback), the event
-- types each wants (comma-separated codes), its signing secret sealed with the system key.
-- `webhook_outbox`: one row per event and endpoint, written in the transaction of the change
-- itself; its id is the `webhook-id` of every attempt. The worker claims a due row with a
-- lease (`lease_until`), so a delivery whose worker died is claimed again after the lease.
-- Payloads carry the event type and ids only. `last_error` is a short code, never a body.
-- Keep in step with the other engine's 0031_webhooks_and_token_scopes.sql.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'case_work';

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret BLOB NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id);

CREATE TABLE webhook_outbox (
    id TEXT PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id),
    org_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    delivered_at BIGINT,
    last_attempt_at BIGINT,
    last_status BIGINT,
    last_error TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(state, next_attempt_at);
CREATE INDEX webhook_outbox_org ON webhook_outbox(org_id, created_at);
