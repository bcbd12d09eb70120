-- Long-term follow-up: the survivor's contact protocol, the follow-up plan and tasks, logged
-- contacts, reintegration assessments. Keep in step with the other engine's 0005_followup.sql.
-- Personal parts (safe numbers, never-contact list and places, cover reason, code word,
-- justifications, answers in her words) are sealed with the case key.

CREATE TABLE followup_protocols (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    channels TEXT NOT NULL,
    windows TEXT NOT NULL,
    utc_offset_min BIGINT NOT NULL,
    do_not_contact BIGINT NOT NULL,
    caller_user TEXT,
    language TEXT NOT NULL,
    sealed BYTEA,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE followup_plans (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    assistance_end TEXT NOT NULL,
    months TEXT NOT NULL,
    max_failed BIGINT NOT NULL,
    lost_contact_at BIGINT,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE followup_tasks (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    request TEXT,
    due_on TEXT NOT NULL,
    assignee TEXT NOT NULL,
    channel TEXT,
    planned_at BIGINT,
    state TEXT NOT NULL,
    done_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX followup_tasks_case ON followup_tasks(case_id, due_on);
CREATE INDEX followup_tasks_assignee ON followup_tasks(assignee, state, due_on);

CREATE TABLE followup_contacts (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    task_id TEXT REFERENCES followup_tasks(id),
    channel TEXT NOT NULL,
    at BIGINT NOT NULL,
    by_user TEXT NOT NULL,
    reached BIGINT NOT NULL,
    outside_protocol BIGINT NOT NULL,
    breaches TEXT NOT NULL,
    justification BYTEA,
    created_at BIGINT NOT NULL
);
CREATE INDEX followup_contacts_case ON followup_contacts(case_id, at);

CREATE TABLE followup_assessments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    round TEXT NOT NULL,
    assessed_on TEXT NOT NULL,
    answers TEXT NOT NULL,
    words BYTEA,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX followup_assessments_case ON followup_assessments(case_id, assessed_on);
CREATE INDEX followup_assessments_round ON followup_assessments(round);
