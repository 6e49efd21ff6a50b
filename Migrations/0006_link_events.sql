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
CREATE INDEX link_event_at ON link_event (at);
CREATE INDEX link_record_resource ON link_record (resource);
-- How each link's life ended, once its event is written (used_up, revoked, retired, expired),
-- and whether its expiring_soon was: each live link's end is told once.
ALTER TABLE link_record ADD COLUMN ended TEXT CHECK (ended IS NULL OR ended IN ('used_up', 'revoked', 'retired', 'expired'));
ALTER TABLE link_record ADD COLUMN warned INTEGER NOT NULL DEFAULT 0 CHECK (warned IN (0, 1));
CREATE INDEX link_record_live ON link_record (expires_at) WHERE ended IS NULL;
-- What the checks saw, aggregated in memory and written about once a second (no write per check):
-- the first and last allowed check, how many were allowed, the last refusal and when.
ALTER TABLE link_record ADD COLUMN first_used_at INTEGER;
ALTER TABLE link_record ADD COLUMN last_used_at INTEGER;
ALTER TABLE link_record ADD COLUMN uses_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE link_record ADD COLUMN last_refused TEXT;
ALTER TABLE link_record ADD COLUMN last_refused_at INTEGER;
ALTER TABLE store_meta ADD COLUMN events_collected INTEGER NOT NULL DEFAULT 0;
