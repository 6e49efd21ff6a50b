-- 0007: link_record as a rowid table (issue #18's hot path). Keyed by its random link id, the
-- table put each issued link, and each link's activity at the flush, on a page of its own: every
-- write touched as many pages as links. In issue order instead, links issued or used about the
-- same time share pages; the link id stays unique through its own (narrow) index. The columns,
-- their checks and the other indexes are those of 0005 and 0006.
CREATE TABLE link_record_in_order (
    record          INTEGER PRIMARY KEY,
    link_id         BLOB    NOT NULL UNIQUE CHECK (length(link_id) = 16),
    epoch           INTEGER NOT NULL CHECK (epoch >= 1),
    issued_at       INTEGER NOT NULL,
    not_before      INTEGER,
    expires_at      INTEGER NOT NULL,
    resource        TEXT    NOT NULL,
    is_prefix       INTEGER NOT NULL CHECK (is_prefix IN (0, 1)),
    host            TEXT,
    methods         TEXT    NOT NULL,
    ip              TEXT,
    max_uses        INTEGER CHECK (max_uses IS NULL OR max_uses >= 1),
    password        INTEGER NOT NULL CHECK (password IN (0, 1)),
    cookie          INTEGER NOT NULL CHECK (cookie IN (0, 1)),
    issuer_uid      INTEGER,
    ref             TEXT    CHECK (ref IS NULL OR length(ref) BETWEEN 1 AND 128),
    ended           TEXT    CHECK (ended IS NULL OR ended IN ('used_up', 'revoked', 'retired', 'expired')),
    warned          INTEGER NOT NULL DEFAULT 0 CHECK (warned IN (0, 1)),
    first_used_at   INTEGER,
    last_used_at    INTEGER,
    uses_seen       INTEGER NOT NULL DEFAULT 0,
    last_refused    TEXT,
    last_refused_at INTEGER
) STRICT;
INSERT INTO link_record_in_order (
    link_id, epoch, issued_at, not_before, expires_at, resource, is_prefix, host, methods, ip, max_uses, password, cookie,
    issuer_uid, ref, ended, warned, first_used_at, last_used_at, uses_seen, last_refused, last_refused_at)
SELECT link_id, epoch, issued_at, not_before, expires_at, resource, is_prefix, host, methods, ip, max_uses, password, cookie,
    issuer_uid, ref, ended, warned, first_used_at, last_used_at, uses_seen, last_refused, last_refused_at
FROM link_record ORDER BY issued_at, link_id;
DROP TABLE link_record;
ALTER TABLE link_record_in_order RENAME TO link_record;
CREATE INDEX link_record_expires_at ON link_record (expires_at);
CREATE INDEX link_record_resource ON link_record (resource);
CREATE INDEX link_record_live ON link_record (expires_at) WHERE ended IS NULL;
