-- authority's schema on PostgreSQL (fleet mode: docs/fleet.md). The same tables and columns as
-- the SQLite schema (Migrations/0001..0004), with the same sealed rows, so both engines keep the
-- same state. Every write transaction locks the one store_meta row first (SELECT ... FOR UPDATE):
-- writes from all daemons are serialised on it, so serials, revocation ids and the integrity head
-- follow commit order exactly.

-- The key ring: one row per epoch, the seed sealed under the master key (XSalsa20-Poly1305).
CREATE TABLE signing_key (
    epoch        BIGINT  PRIMARY KEY CHECK (epoch >= 1),
    public_key   BYTEA   NOT NULL CHECK (length(public_key) = 32),
    nonce        BYTEA   NOT NULL CHECK (length(nonce) = 24),
    sealed_seed  BYTEA   NOT NULL CHECK (length(sealed_seed) = 48),
    status       TEXT    NOT NULL CHECK (status IN ('active', 'verify_only', 'retired')),
    created_at   BIGINT  NOT NULL,
    retire_after BIGINT,
    retired_at   BIGINT,
    mac          BYTEA   CHECK (mac IS NULL OR length(mac) = 32),
    CHECK ((status = 'retired') = (retired_at IS NOT NULL))
);
-- At most one active epoch, whatever the daemons do at the same time.
CREATE UNIQUE INDEX signing_key_one_active ON signing_key (status) WHERE status = 'active';

CREATE TABLE revocation (
    id            BIGINT  PRIMARY KEY,
    link_id       BYTEA   CHECK (link_id IS NULL OR length(link_id) = 16),
    prefix        TEXT    CHECK (prefix IS NULL OR substr(prefix, 1, 1) = '/'),
    issued_before BIGINT,
    reason        TEXT,
    created_at    BIGINT  NOT NULL,
    live_until    BIGINT,
    actor_uid     BIGINT,
    mac           BYTEA   CHECK (mac IS NULL OR length(mac) = 32),
    CHECK ((link_id IS NOT NULL AND prefix IS NULL AND issued_before IS NULL)
        OR (link_id IS NULL AND prefix IS NOT NULL))
);

CREATE TABLE audit_log (
    id        BIGSERIAL PRIMARY KEY,
    at        BIGINT  NOT NULL,
    actor_uid BIGINT,
    actor_pid BIGINT,
    action    TEXT    NOT NULL,
    link_id   TEXT,
    epoch     BIGINT,
    detail    TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE link_use (
    link_id    BYTEA   PRIMARY KEY CHECK (length(link_id) = 16),
    max_uses   BIGINT  NOT NULL CHECK (max_uses >= 1),
    used       BIGINT  NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= max_uses),
    expires_at BIGINT  NOT NULL,
    mac        BYTEA   CHECK (mac IS NULL OR length(mac) = 32)
);
CREATE INDEX link_use_expires_at ON link_use (expires_at);

CREATE TABLE link_password (
    link_id      BYTEA   PRIMARY KEY CHECK (length(link_id) = 16),
    hash         TEXT    NOT NULL CHECK (hash LIKE '$argon2id$%'),
    failures     BIGINT  NOT NULL DEFAULT 0 CHECK (failures >= 0),
    lockouts     BIGINT  NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    locked_until BIGINT  NOT NULL DEFAULT 0,
    expires_at   BIGINT  NOT NULL
);
CREATE INDEX link_password_expires_at ON link_password (expires_at);

CREATE TABLE store_meta (
    only_row     INTEGER PRIMARY KEY CHECK (only_row = 1),
    store_id     BYTEA   NOT NULL CHECK (length(store_id) = 16),
    created_at   BIGINT  NOT NULL,
    clock_mark   BIGINT  NOT NULL,
    head_serial  BIGINT  NOT NULL CHECK (head_serial >= 0),
    head_digest  BYTEA   NOT NULL CHECK (length(head_digest) = 32),
    head_mac     BYTEA   NOT NULL CHECK (length(head_mac) = 32),
    next_revocation BIGINT NOT NULL DEFAULT 1,
    -- The serials of the last change to the key ring and of the last rebuild of the revocation
    -- index (a lift, a collection): a daemon that is behind reloads what changed, and only that.
    keys_serial    BIGINT NOT NULL DEFAULT 0,
    rebuild_serial BIGINT NOT NULL DEFAULT 0
);
