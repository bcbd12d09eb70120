-- Assistance: needs assessments, the individual rehabilitation plan (HTCDS spl_), shelter
-- facilities and stays, the one-time allowance. Keep in step with the postgres file.
-- Free text in the survivor's words (notes, priorities, objectives, goals, reasons) is
-- sealed with the case key. Calendar dates are TEXT YYYY-MM-DD; instants are unix ms.

-- Funding: sources (state budget, the victim assistance fund, donors) and grants.
CREATE TABLE funding_sources (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES funding_sources(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX grants_source ON grants(source_id);

CREATE TABLE needs_assessments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    org_id TEXT NOT NULL,
    assessed_by TEXT NOT NULL,
    assessed_at BIGINT NOT NULL,
    priorities BYTEA
);
CREATE INDEX needs_assessments_case ON needs_assessments(case_id, assessed_at);

CREATE TABLE assessment_needs (
    id TEXT PRIMARY KEY,
    assessment_id TEXT NOT NULL REFERENCES needs_assessments(id),
    domain TEXT NOT NULL,
    severity TEXT NOT NULL,
    notes BYTEA,
    UNIQUE (assessment_id, domain)
);

CREATE TABLE plans (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    org_id TEXT NOT NULL,
    spl_type TEXT NOT NULL,
    spl_objectives BYTEA,
    spl_planned_end_date TEXT,
    spl_actual_end_date TEXT,
    review_on TEXT,
    survivor_agreed BIGINT NOT NULL,
    agreed_at BIGINT,
    approved_by TEXT,
    approved_at BIGINT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX plans_case ON plans(case_id, created_at);
CREATE INDEX plans_waiting ON plans(org_id, approved_at);

CREATE TABLE plan_goals (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    term TEXT NOT NULL,
    domain TEXT,
    description BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX plan_goals_plan ON plan_goals(plan_id);

CREATE TABLE plan_actions (
    id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    goal_id TEXT REFERENCES plan_goals(id),
    domain TEXT,
    service TEXT NOT NULL,
    responsible_org TEXT NOT NULL,
    due_on TEXT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX plan_actions_plan ON plan_actions(plan_id);

CREATE TABLE shelter_facilities (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organisations(id),
    name TEXT NOT NULL,
    beds BIGINT NOT NULL,
    max_stay_days BIGINT NOT NULL,
    state_shelter BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE shelter_stays (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    facility_id TEXT NOT NULL REFERENCES shelter_facilities(id),
    admitted_on TEXT NOT NULL,
    dependants BIGINT NOT NULL,
    exited_on TEXT,
    exit_destination TEXT,
    daily_cost_minor BIGINT NOT NULL,
    funding_source_id TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX shelter_stays_facility ON shelter_stays(facility_id, exited_on);
CREATE INDEX shelter_stays_case ON shelter_stays(case_id);

CREATE TABLE shelter_extensions (
    id TEXT PRIMARY KEY,
    stay_id TEXT NOT NULL REFERENCES shelter_stays(id),
    days BIGINT NOT NULL,
    reason BYTEA NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    approved_by TEXT,
    approved_at BIGINT
);
CREATE INDEX shelter_extensions_stay ON shelter_extensions(stay_id);

-- One record per service delivered; details (e.g. medical) sealed with the case key.
CREATE TABLE services_delivered (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    plan_action_id TEXT REFERENCES plan_actions(id),
    service TEXT NOT NULL,
    provider_org TEXT NOT NULL,
    started_on TEXT NOT NULL,
    ended_on TEXT,
    outcome TEXT NOT NULL,
    details BYTEA,
    cost_minor BIGINT NOT NULL,
    funding_source_id TEXT REFERENCES funding_sources(id),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX services_delivered_case ON services_delivered(case_id);
CREATE INDEX services_delivered_source ON services_delivered(funding_source_id);

-- At most one allowance per person across all organisations: the database decides.
CREATE TABLE allowance_payments (
    id TEXT PRIMARY KEY,
    person_key TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    org_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX allowance_payments_person ON allowance_payments(person_key);
CREATE INDEX allowance_payments_case ON allowance_payments(case_id);
