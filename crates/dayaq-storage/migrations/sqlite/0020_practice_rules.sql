-- Rules of practice as data (issue #17 part 4). Keep in step with the other engine's
-- 0020_practice_rules.sql.
--
-- The recovery and reflection period (CoE Convention art. 13): one row for the installation,
-- edited by the national coordinator; no row = the minimum, 30 days.
CREATE TABLE reflection_setting (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    days BIGINT NOT NULL CHECK (days >= 30),
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Admission conditions per shelter facility; no row = no condition (a new installation admits
-- without conditions). Edited by the national coordinator, audited.
CREATE TABLE facility_admission_rules (
    facility_id TEXT PRIMARY KEY REFERENCES shelter_facilities(id),
    requires_cooperation BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Admissions refused by a facility rule, counted by reason for the scorecard. No case id and no
-- person: the facility, the reason code and the day.
CREATE TABLE admission_refusals (
    id TEXT PRIMARY KEY,
    facility_id TEXT NOT NULL REFERENCES shelter_facilities(id),
    org_id TEXT NOT NULL REFERENCES organisations(id),
    reason TEXT NOT NULL,
    refused_on TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX admission_refusals_day ON admission_refusals(refused_on, reason);

-- Her priorities in her words, part of the rehabilitation plan, sealed with the case key
-- (associated data: plan_priorities/words/<plan id>).
CREATE TABLE plan_priorities (
    plan_id TEXT PRIMARY KEY REFERENCES plans(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    words BLOB NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX plan_priorities_case ON plan_priorities(case_id);
