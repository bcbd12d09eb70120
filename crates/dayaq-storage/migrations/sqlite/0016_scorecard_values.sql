-- The action-plan scorecard (issue #15 §3): yearly values of the indicators the data cannot
-- compute (trainings held, laws passed), entered by the national coordinator with their source.
-- Every entry is kept; the latest per indicator and year counts. The value is the number as
-- text (exact on both engines). Keep in step with the other engine's 0016_scorecard_values.sql.
CREATE TABLE indicator_values (
    id TEXT PRIMARY KEY,
    indicator TEXT NOT NULL,
    year BIGINT NOT NULL,
    value TEXT NOT NULL,
    source TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    entered_at BIGINT NOT NULL
);
CREATE INDEX indicator_values_year ON indicator_values(year, indicator);
