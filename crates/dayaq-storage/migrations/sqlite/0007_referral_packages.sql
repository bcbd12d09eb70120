-- Off-platform referral packages (age-encrypted HTCDS JSON of the consented sections).
-- Keep in step with the postgres file.

-- The age X25519 public key of an organisation that is not on the platform.
CREATE TABLE org_age_recipients (
    org_id TEXT PRIMARY KEY REFERENCES organisations(id),
    recipient TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- This instance's age identity (sealed with the system key), used to open incoming packages.
CREATE TABLE instance_age_identities (
    id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    identity BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

-- Packages sent (outgoing: counterpart = recipient organisation id, referral_id set) and
-- received (incoming: counterpart = the sender organisation's name as written in the package).
CREATE TABLE referral_packages (
    id TEXT PRIMARY KEY,
    direction TEXT NOT NULL,
    case_id TEXT NOT NULL REFERENCES cases(id),
    referral_id TEXT,
    counterpart TEXT NOT NULL,
    services TEXT NOT NULL,
    reason TEXT NOT NULL,
    sections TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX referral_packages_case ON referral_packages(case_id, created_at);

-- A referral sent as a package is recorded as completed and never grants platform access.
ALTER TABLE referrals ADD COLUMN off_platform BIGINT NOT NULL DEFAULT 0;
