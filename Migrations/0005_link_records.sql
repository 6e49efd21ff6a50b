-- 0005: one record per issued link (issue #18): what it grants, who issued it and the issuer's
-- own reference, for GET /v1/links/{id} and the link's lifecycle. Never a signature, a link or a
-- password. A record is kept until its link has been expired for the retention time, then
-- maintenance deletes it.
CREATE TABLE link_record (
    link_id    BLOB    PRIMARY KEY CHECK (length(link_id) = 16),
    epoch      INTEGER NOT NULL CHECK (epoch >= 1),
    issued_at  INTEGER NOT NULL,
    not_before INTEGER,
    expires_at INTEGER NOT NULL,
    -- The canonical path, or the prefix of a prefix link.
    resource   TEXT    NOT NULL,
    is_prefix  INTEGER NOT NULL CHECK (is_prefix IN (0, 1)),
    host       TEXT,
    -- Canonical method names, as signed ("GET,HEAD").
    methods    TEXT    NOT NULL,
    ip         TEXT,
    max_uses   INTEGER CHECK (max_uses IS NULL OR max_uses >= 1),
    password   INTEGER NOT NULL CHECK (password IN (0, 1)),
    cookie     INTEGER NOT NULL CHECK (cookie IN (0, 1)),
    issuer_uid INTEGER,
    ref        TEXT    CHECK (ref IS NULL OR length(ref) BETWEEN 1 AND 128)
) STRICT, WITHOUT ROWID;
CREATE INDEX link_record_expires_at ON link_record (expires_at);
