-- Why a referral ended early: 'consent_withdrawn' when the survivor's consent that covered it
-- was withdrawn (its grant ends at once, without the grace period). NULL otherwise.
-- Keep in step with the other engine's 0015_referral_ended_by.sql.

ALTER TABLE referrals ADD COLUMN ended_by TEXT;
