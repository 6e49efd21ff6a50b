-- 0006: lifecycle events (issue #18, docs/events.md): one row per event, in commit order (the
-- serial), kept for the event retention, then maintenance deletes the oldest and raises
-- events_collected to the highest serial it deleted, so a reader behind it is told so.
CREATE TABLE link_event (
    serial     INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('issued', 'first_used', 'used', 'used_up', 'password_locked',
                                                'revoked', 'expired', 'expiring_soon', 'retired')),
    link_id    BLOB    NOT NULL CHECK (length(link_id) = 16),
    resource   TEXT    NOT NULL,
    issuer_uid INTEGER,
    ref        TEXT,
    -- `used`, `used_up`: the uses left after it; `revoked`: the revocation's serial.
    uses_left  INTEGER,
    revocation INTEGER
) STRICT;
CREATE INDEX link_event_issuer ON link_event (issuer_uid, serial);
CREATE INDEX link_event_link ON link_event (link_id, kind);
CREATE INDEX link_record_resource ON link_record (resource);
ALTER TABLE store_meta ADD COLUMN events_collected INTEGER NOT NULL DEFAULT 0;
