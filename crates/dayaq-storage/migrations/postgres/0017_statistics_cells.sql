-- Maintained national statistics (issue #15 §6). Keep in step with the other engine's
-- 0017_statistics_cells.sql. The tables are derived data (not in backups): `dayaq statistics
-- rebuild` recomputes them from the records.
--
-- stat_cell: the sum over persons of their contributions to the national report
--   (span 0 = that year only, 1 = that year and every later one; table `_years` marks the
--   trend's years).
-- stat_person: each person's own contribution (compact text, one cell a line), keyed by the
--   person key (name + birth-date blind-index digest, else the case id). A person without
--   any case left has no row.
-- stat_case: which person each (not erased) case belongs to, as last counted.
-- stat_dirty: cases written in the current transaction whose person must be recounted before
--   it commits (`WriteTx::commit`). Filled by the triggers below, so no write path can skip it.
CREATE TABLE stat_cell (
    span BIGINT NOT NULL,
    year BIGINT NOT NULL,
    tbl TEXT NOT NULL,
    row_key TEXT NOT NULL,
    col_key TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (span, year, tbl, row_key, col_key)
);
CREATE TABLE stat_person (
    person TEXT PRIMARY KEY,
    cells TEXT NOT NULL
);
CREATE TABLE stat_case (
    case_id TEXT PRIMARY KEY,
    person TEXT NOT NULL
);
CREATE INDEX stat_case_person ON stat_case(person);
CREATE TABLE stat_dirty (
    case_id TEXT PRIMARY KEY
);

CREATE FUNCTION stat_dirty_by_case_id() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' OR TG_OP = 'DELETE' THEN
        INSERT INTO stat_dirty (case_id) VALUES (OLD.case_id) ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP = 'UPDATE' OR TG_OP = 'INSERT' THEN
        INSERT INTO stat_dirty (case_id) VALUES (NEW.case_id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION stat_dirty_by_id() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO stat_dirty (case_id) VALUES (OLD.id) ON CONFLICT DO NOTHING;
    ELSE
        INSERT INTO stat_dirty (case_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION stat_dirty_by_facility() RETURNS trigger AS $$
BEGIN
    INSERT INTO stat_dirty (case_id) SELECT case_id FROM shelter_stays WHERE facility_id = NEW.id
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE FUNCTION stat_dirty_by_screening_org() RETURNS trigger AS $$
BEGIN
    INSERT INTO stat_dirty (case_id) SELECT case_id FROM screenings WHERE screened_by_org = NEW.id
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER stat_dirty_cases_ins AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_id();
CREATE TRIGGER stat_dirty_cases_upd AFTER UPDATE OF prs_gender, age_when_trafficked, identity, erased_at ON cases
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_id();
CREATE TRIGGER stat_dirty_case_values AFTER INSERT OR UPDATE OR DELETE ON case_values
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_trafficking_events AFTER INSERT OR UPDATE OR DELETE ON trafficking_events
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_identification_decisions AFTER INSERT OR UPDATE OR DELETE ON identification_decisions
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_screenings AFTER INSERT OR UPDATE OR DELETE ON screenings
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_shelter_stays AFTER INSERT OR UPDATE OR DELETE ON shelter_stays
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_services_delivered AFTER INSERT OR UPDATE OR DELETE ON services_delivered
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_allowance_payments AFTER INSERT OR UPDATE OR DELETE ON allowance_payments
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_referrals AFTER INSERT OR UPDATE OR DELETE ON referrals
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_case_legal AFTER INSERT OR UPDATE OR DELETE ON case_legal
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_blind_index AFTER INSERT OR UPDATE OR DELETE ON blind_index
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_case_id();
CREATE TRIGGER stat_dirty_facility_upd AFTER UPDATE OF state_shelter ON shelter_facilities
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_facility();
CREATE TRIGGER stat_dirty_org_upd AFTER UPDATE OF org_type ON organisations
    FOR EACH ROW EXECUTE FUNCTION stat_dirty_by_screening_org();

-- Existing data: every case is counted by the first write transaction after the upgrade
-- (a bulk rebuild when there are many; `Store::open` runs it at start).
INSERT INTO stat_dirty (case_id) SELECT id FROM cases;
