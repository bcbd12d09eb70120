-- Second-factor attempt budget: each pending (pre-MFA) sign-in may try at most 5 codes;
-- an attempt is reserved here before the code is checked, so parallel guesses cannot
-- exceed the budget. Keep in step with the other engine's 0011_second_factor_budget.sql.

ALTER TABLE sessions ADD COLUMN mfa_attempts BIGINT NOT NULL DEFAULT 0;
