-- Research data releases (issue #16): requests by researchers, decisions by the national
-- coordinator, the age-encrypted release files and the privacy-budget ledger. No personal data:
-- purpose and reasons are the requester's and decider's words about the request, the file is
-- encrypted to the requester's age key. Keep in step with the other engine's 0018.
CREATE TABLE release_recipients (
    user_id TEXT PRIMARY KEY,
    recipient TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE release_requests (
    id TEXT PRIMARY KEY,
    requester TEXT NOT NULL,
    purpose TEXT NOT NULL,
    kind TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    variables TEXT NOT NULL,
    k BIGINT,
    epsilon TEXT,
    terms_accepted BIGINT NOT NULL,
    state TEXT NOT NULL,
    decider TEXT,
    reason TEXT,
    created_at BIGINT NOT NULL,
    decided_at BIGINT,
    generated_at BIGINT,
    downloaded_at BIGINT
);
CREATE INDEX release_requests_requester ON release_requests(requester, created_at);
CREATE TABLE release_files (
    request_id TEXT PRIMARY KEY,
    ciphertext BYTEA NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    records BIGINT NOT NULL,
    suppressed BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE privacy_ledger (
    id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    epsilon TEXT NOT NULL,
    release_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX privacy_ledger_dataset ON privacy_ledger(dataset);
