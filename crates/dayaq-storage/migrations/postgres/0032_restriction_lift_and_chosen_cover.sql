-- Issue #17, the survivor's rights: an accepted restriction of processing can be lifted (the
-- request's state becomes `lifted`; who lifted it and when are kept, codes and ids only), and a
-- self check-in may carry a cover naming the organisation only when she chose it
-- (`cover_chosen_by_her` = 1, recorded on the check-in and shown on the case).
-- Keep in step with the other engine's 0032_restriction_lift_and_chosen_cover.sql.
ALTER TABLE subject_requests ADD COLUMN lifted_by TEXT;
ALTER TABLE subject_requests ADD COLUMN lifted_at BIGINT;
ALTER TABLE followup_checkins ADD COLUMN cover_chosen_by_her BIGINT NOT NULL DEFAULT 0;
