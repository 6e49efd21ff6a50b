-- 0002: one record per issued link (Migrations/0005_link_records.sql, the same columns).
CREATE TABLE link_record (
    link_id    BYTEA   PRIMARY KEY CHECK (length(link_id) = 16),
    epoch      BIGINT  NOT NULL CHECK (epoch >= 1),
    issued_at  BIGINT  NOT NULL,
    not_before BIGINT,
    expires_at BIGINT  NOT NULL,
    resource   TEXT    NOT NULL,
    is_prefix  BIGINT  NOT NULL CHECK (is_prefix IN (0, 1)),
    host       TEXT,
    methods    TEXT    NOT NULL,
    ip         TEXT,
    max_uses   BIGINT  CHECK (max_uses IS NULL OR max_uses >= 1),
    password   BIGINT  NOT NULL CHECK (password IN (0, 1)),
    cookie     BIGINT  NOT NULL CHECK (cookie IN (0, 1)),
    issuer_uid BIGINT,
    ref        TEXT    CHECK (ref IS NULL OR length(ref) BETWEEN 1 AND 128)
);
CREATE INDEX link_record_expires_at ON link_record (expires_at);
