-- 0004: durable truth under faults (docs/operations.md).

-- One row: which database this is, the daemon's time high-water mark, and the integrity head
-- (version serial, XOR of every sealed row's MAC, and a MAC over both under a key derived from the
-- master key). The state directory's `authority.head` file holds a copy of the head written after
-- every acknowledged change, so a database that lost acknowledged changes (a damaged WAL, an old
-- copy) is noticed at start.
CREATE TABLE store_meta (
    only_row     INTEGER PRIMARY KEY CHECK (only_row = 1),
    store_id     BLOB    NOT NULL CHECK (length(store_id) = 16),
    created_at   INTEGER NOT NULL,
    clock_mark   INTEGER NOT NULL,
    head_serial  INTEGER NOT NULL CHECK (head_serial >= 0),
    head_digest  BLOB    NOT NULL CHECK (length(head_digest) = 32),
    head_mac     BLOB    NOT NULL CHECK (length(head_mac) = 32),
    -- The serial the next revocation gets: serials are never reused, also after a lift.
    next_revocation INTEGER NOT NULL DEFAULT 1
) STRICT;

-- Each revocation, use counter and key epoch carries a keyed BLAKE2b MAC of its content (NULL
-- until the daemon seals the rows of a database migrated from an earlier version, once, at start).
-- Epochs are sealed because their retire_after marks bound how long revocations are kept.
ALTER TABLE revocation ADD COLUMN mac BLOB CHECK (mac IS NULL OR length(mac) = 32);
ALTER TABLE link_use ADD COLUMN mac BLOB CHECK (mac IS NULL OR length(mac) = 32);
ALTER TABLE signing_key ADD COLUMN mac BLOB CHECK (mac IS NULL OR length(mac) = 32);

-- Revocations were collected at created_at + the max-ttl in force when they were made; a later,
-- lower max-ttl or a clock step could end them before their links. From now on live_until comes
-- from the epochs' retire_after marks (the latest expiry each epoch ever signed): raise every
-- existing bound to the latest such mark, never lower it.
UPDATE revocation
SET live_until = max(live_until, coalesce((SELECT max(retire_after) FROM signing_key WHERE status != 'retired'), live_until))
WHERE live_until IS NOT NULL;
