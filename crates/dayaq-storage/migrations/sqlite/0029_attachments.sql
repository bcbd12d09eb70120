-- Encrypted attachments of a case section (issue #21 §1). The file itself is an object in the
-- attachment store (local disk or S3-compatible) under the random name `object_key`, encrypted
-- in chunks under a key derived from the case key; `name` is the name given at upload, sealed
-- under the case key. `state`: pending (upload in progress, invisible), stored, deleting
-- (deleted or erased; the object is being removed). `sha256` is the ciphertext's digest
-- (backup/restore checks). Keep in step with the other engine's 0029_attachments.sql.
CREATE TABLE case_attachments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    section TEXT NOT NULL,
    kind TEXT NOT NULL,
    name BLOB NOT NULL,
    object_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments(case_id, state);
