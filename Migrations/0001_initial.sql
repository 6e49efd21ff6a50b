-- 0001: key ring, revocation list, audit log.
-- Shipped migrations are never edited (AuthorityStoreTests pins their SHA-256): add a new file.

-- One row per key epoch. The 32-byte Ed25519 seed is sealed with crypto_secretbox under the
-- master key (24-byte nonce; 16-byte tag + 32 bytes of ciphertext).
CREATE TABLE signing_key (
    epoch        INTEGER PRIMARY KEY CHECK (epoch >= 1),
    public_key   BLOB    NOT NULL CHECK (length(public_key) = 32),
    nonce        BLOB    NOT NULL CHECK (length(nonce) = 24),
    sealed_seed  BLOB    NOT NULL CHECK (length(sealed_seed) = 48),
    status       TEXT    NOT NULL CHECK (status IN ('active', 'verify_only', 'retired')),
    created_at   INTEGER NOT NULL,
    -- At least the latest expiry ever issued under this epoch (a durable high-water mark).
    retire_after INTEGER,
    retired_at   INTEGER,
    CHECK ((status = 'retired') = (retired_at IS NOT NULL))
) STRICT;

-- Exactly one epoch signs: SQLite itself refuses a second active row.
CREATE UNIQUE INDEX signing_key_one_active ON signing_key (status) WHERE status = 'active';

-- A revocation by link id, by path prefix, or of links issued before a time under a prefix.
CREATE TABLE revocation (
    id            INTEGER PRIMARY KEY,
    link_id       BLOB    CHECK (link_id IS NULL OR length(link_id) = 16),
    prefix        TEXT    CHECK (prefix IS NULL OR substr(prefix, 1, 1) = '/'),
    issued_before INTEGER,
    reason        TEXT,
    created_at    INTEGER NOT NULL,
    -- After this time no link the revocation covers can still be live: it may be collected.
    live_until    INTEGER,
    actor_uid     INTEGER,
    CHECK ((link_id IS NOT NULL AND prefix IS NULL AND issued_before IS NULL)
        OR (link_id IS NULL AND prefix IS NOT NULL))
) STRICT;

-- Who did what. Never a signature, a whole link, a password or key material.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor_uid INTEGER,
    actor_pid INTEGER,
    action    TEXT    NOT NULL,
    link_id   TEXT,
    epoch     INTEGER,
    detail    TEXT
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
