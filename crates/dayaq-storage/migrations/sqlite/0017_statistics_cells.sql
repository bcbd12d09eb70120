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

CREATE TRIGGER stat_dirty_cases_ins AFTER INSERT ON cases
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.id); END;
CREATE TRIGGER stat_dirty_cases_upd AFTER UPDATE OF prs_gender, age_when_trafficked, identity, erased_at ON cases
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.id); END;
CREATE TRIGGER stat_dirty_cases_del AFTER DELETE ON cases
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.id); END;
CREATE TRIGGER stat_dirty_case_values_ins AFTER INSERT ON case_values
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_case_values_upd AFTER UPDATE ON case_values
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_case_values_del AFTER DELETE ON case_values
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_trafficking_events_ins AFTER INSERT ON trafficking_events
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_trafficking_events_upd AFTER UPDATE ON trafficking_events
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_trafficking_events_del AFTER DELETE ON trafficking_events
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_identification_decisions_ins AFTER INSERT ON identification_decisions
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_identification_decisions_upd AFTER UPDATE ON identification_decisions
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_identification_decisions_del AFTER DELETE ON identification_decisions
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_screenings_ins AFTER INSERT ON screenings
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_screenings_upd AFTER UPDATE ON screenings
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_screenings_del AFTER DELETE ON screenings
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_shelter_stays_ins AFTER INSERT ON shelter_stays
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_shelter_stays_upd AFTER UPDATE ON shelter_stays
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_shelter_stays_del AFTER DELETE ON shelter_stays
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_services_delivered_ins AFTER INSERT ON services_delivered
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_services_delivered_upd AFTER UPDATE ON services_delivered
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_services_delivered_del AFTER DELETE ON services_delivered
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_allowance_payments_ins AFTER INSERT ON allowance_payments
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_allowance_payments_upd AFTER UPDATE ON allowance_payments
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_allowance_payments_del AFTER DELETE ON allowance_payments
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_referrals_ins AFTER INSERT ON referrals
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_referrals_upd AFTER UPDATE ON referrals
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_referrals_del AFTER DELETE ON referrals
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_case_legal_ins AFTER INSERT ON case_legal
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_case_legal_upd AFTER UPDATE ON case_legal
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_case_legal_del AFTER DELETE ON case_legal
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_blind_index_ins AFTER INSERT ON blind_index
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_blind_index_upd AFTER UPDATE ON blind_index
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (NEW.case_id); END;
CREATE TRIGGER stat_dirty_blind_index_del AFTER DELETE ON blind_index
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) VALUES (OLD.case_id); END;
CREATE TRIGGER stat_dirty_facility_upd AFTER UPDATE OF state_shelter ON shelter_facilities
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) SELECT case_id FROM shelter_stays WHERE facility_id = NEW.id; END;
CREATE TRIGGER stat_dirty_org_upd AFTER UPDATE OF org_type ON organisations
BEGIN INSERT OR IGNORE INTO stat_dirty (case_id) SELECT case_id FROM screenings WHERE screened_by_org = NEW.id; END;

-- Existing data: every case is counted by the first write transaction after the upgrade
-- (a bulk rebuild when there are many; `Store::open` runs it at start).
INSERT INTO stat_dirty (case_id) SELECT id FROM cases;
