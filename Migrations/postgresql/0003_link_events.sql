-- 0003: lifecycle events (Migrations/0006_link_events.sql, the same columns). The serial comes
-- from store_meta.next_event, taken under store_meta's row lock, so serials follow commit order
-- across the fleet.
CREATE TABLE link_event (
    serial     BIGINT  PRIMARY KEY,
    at         BIGINT  NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('issued', 'first_used', 'used', 'used_up', 'password_locked',
                                                'revoked', 'expired', 'expiring_soon', 'retired')),
    link_id    BYTEA   NOT NULL CHECK (length(link_id) = 16),
    resource   TEXT    NOT NULL,
    issuer_uid BIGINT,
    ref        TEXT,
    uses_left  BIGINT,
    revocation BIGINT
);
CREATE INDEX link_event_issuer ON link_event (issuer_uid, serial);
CREATE INDEX link_event_at ON link_event (at);
CREATE INDEX link_record_resource ON link_record (resource COLLATE "C");
ALTER TABLE link_record ADD COLUMN ended TEXT CHECK (ended IS NULL OR ended IN ('used_up', 'revoked', 'retired', 'expired'));
ALTER TABLE link_record ADD COLUMN warned BIGINT NOT NULL DEFAULT 0 CHECK (warned IN (0, 1));
CREATE INDEX link_record_live ON link_record (expires_at) WHERE ended IS NULL;
ALTER TABLE link_record ADD COLUMN first_used_at BIGINT;
ALTER TABLE link_record ADD COLUMN last_used_at BIGINT;
ALTER TABLE link_record ADD COLUMN uses_seen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE link_record ADD COLUMN last_refused TEXT;
ALTER TABLE link_record ADD COLUMN last_refused_at BIGINT;
ALTER TABLE store_meta ADD COLUMN events_collected BIGINT NOT NULL DEFAULT 0;
ALTER TABLE store_meta ADD COLUMN next_event BIGINT NOT NULL DEFAULT 1;
