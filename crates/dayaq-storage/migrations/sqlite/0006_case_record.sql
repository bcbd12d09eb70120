-- The rest of the case record: HTCDS "Historic Trafficking Events" (hte_*), perpetrator roles
-- (per_*; no perpetrator identity), dependants (children) linked to the case, the case status
-- history (closure, reopening) and episodes (re-trafficking: a new case linked to the
-- previous case of the same person). Keep in step with the other engine's 0006_case_record.sql.
-- Street, postal code, coordinates and descriptions of events, per_RoleDetails, a dependant's
-- whereabouts and the reasons for status changes are sealed with the case key.

CREATE TABLE trafficking_events (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    hte_type TEXT NOT NULL,
    hte_country TEXT,
    hte_city TEXT,
    hte_state TEXT,
    hte_date TEXT,
    sealed BLOB,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX trafficking_events_case ON trafficking_events(case_id);

CREATE TABLE perpetrator_roles (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    per_role_in_process TEXT NOT NULL,
    sealed BLOB,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX perpetrator_roles_case ON perpetrator_roles(case_id);

CREATE TABLE dependants (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    relation TEXT NOT NULL,
    prs_gender TEXT,
    birth_year BIGINT,
    with_victim BIGINT NOT NULL,
    needs_schooling BIGINT NOT NULL,
    needs_childcare BIGINT NOT NULL,
    sealed BLOB,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX dependants_case ON dependants(case_id);

CREATE TABLE case_status_history (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason BLOB,
    actor_user TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE UNIQUE INDEX case_status_history_seq ON case_status_history(case_id, seq);

CREATE TABLE case_episodes (
    case_id TEXT PRIMARY KEY REFERENCES cases(id),
    series_id TEXT NOT NULL REFERENCES cases(id),
    episode BIGINT NOT NULL,
    previous_case_id TEXT REFERENCES cases(id),
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX case_episodes_previous ON case_episodes(previous_case_id);
CREATE INDEX case_episodes_series ON case_episodes(series_id, episode);
