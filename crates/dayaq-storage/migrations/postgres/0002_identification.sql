-- Identification: contacts (intake), screenings, formal decisions (history), consent records.
-- Keep in step with migrations/sqlite/0002_identification.sql.

CREATE TABLE contacts (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    channel TEXT NOT NULL,
    anonymous BIGINT NOT NULL,
    case_id TEXT REFERENCES cases(id),
    master_key_id TEXT,
    wrapped_key BYTEA,
    summary BYTEA,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX contacts_org ON contacts(org_id, created_at);
CREATE INDEX contacts_case ON contacts(case_id);

CREATE TABLE screenings (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    act BIGINT NOT NULL,
    means BIGINT NOT NULL,
    purpose BIGINT NOT NULL,
    is_child BIGINT NOT NULL,
    methods_of_control TEXT NOT NULL,
    types_of_exploitation TEXT NOT NULL,
    ilo_indicators TEXT NOT NULL,
    possible_victim BIGINT NOT NULL,
    screened_by TEXT NOT NULL,
    screened_by_org TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX screenings_case ON screenings(case_id, created_at);

CREATE TABLE identification_decisions (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    status TEXT NOT NULL,
    decision_making_org TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_by_org TEXT NOT NULL,
    decided_on TEXT NOT NULL,
    reference TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX decisions_case ON identification_decisions(case_id, created_at);

CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    purpose TEXT NOT NULL,
    given BIGINT NOT NULL,
    recipient_org TEXT,
    recipient_org_type TEXT,
    given_by TEXT NOT NULL,
    language TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    withdrawn_at BIGINT,
    withdrawn_by TEXT
);
CREATE INDEX consents_case ON consents(case_id);
