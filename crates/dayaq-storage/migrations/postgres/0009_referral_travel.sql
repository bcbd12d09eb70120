-- Travel details of return-home and airport-meeting referrals (sealed JSON, case key).
-- Keep in step with the other engine's 0009_referral_travel.sql.

ALTER TABLE referrals ADD COLUMN travel BYTEA;
