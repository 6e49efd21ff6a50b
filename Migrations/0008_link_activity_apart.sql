-- 0008: a link's activity in a narrow table of its own (issue #18's hot path). The flush after
-- the checks wrote the five activity columns into link_record, whose rows are wide (resource,
-- methods, host, ref): every flushed link rewrote a whole record and the pages around it. Here
-- the activity has a row per used link, keyed by the record's rowid (link_record.record, kept
-- from 0007), so the flush writes a few narrow rows and reads the records only to tell the
-- `first_used` events. link_record keeps the grant, the issuer, how the link ended and whether
-- it was warned. link_record_with_activity is the record and its activity as 0007 kept them
-- (uses_seen 0 where no row). No foreign key: the collection deletes both, in one write.
CREATE TABLE link_activity (
    record          INTEGER PRIMARY KEY,
    first_used_at   INTEGER,
    last_used_at    INTEGER,
    uses_seen       INTEGER NOT NULL DEFAULT 0,
    last_refused    TEXT,
    last_refused_at INTEGER
) STRICT;
INSERT INTO link_activity (record, first_used_at, last_used_at, uses_seen, last_refused, last_refused_at)
SELECT record, first_used_at, last_used_at, uses_seen, last_refused, last_refused_at FROM link_record
WHERE first_used_at IS NOT NULL OR last_used_at IS NOT NULL OR uses_seen <> 0 OR last_refused IS NOT NULL
    OR last_refused_at IS NOT NULL
ORDER BY record;
ALTER TABLE link_record DROP COLUMN first_used_at;
ALTER TABLE link_record DROP COLUMN last_used_at;
ALTER TABLE link_record DROP COLUMN uses_seen;
ALTER TABLE link_record DROP COLUMN last_refused;
ALTER TABLE link_record DROP COLUMN last_refused_at;
CREATE VIEW link_record_with_activity AS
SELECT r.record, r.link_id, r.epoch, r.issued_at, r.not_before, r.expires_at, r.resource, r.is_prefix, r.host, r.methods,
    r.ip, r.max_uses, r.password, r.cookie, r.issuer_uid, r.ref, r.ended, r.warned, a.first_used_at, a.last_used_at,
    coalesce(a.uses_seen, 0) AS uses_seen, a.last_refused, a.last_refused_at
FROM link_record AS r LEFT JOIN link_activity AS a ON a.record = r.record;
