-- 0002: use-limited and password-protected links.
-- Rows live until their link has expired, then maintenance deletes them.

-- One row per use-limited link: a use is counted by a conditional UPDATE in the same transaction
-- that acknowledges it, so no link is ever used more than max_uses times.
CREATE TABLE link_use (
    link_id    BLOB    PRIMARY KEY CHECK (length(link_id) = 16),
    max_uses   INTEGER NOT NULL CHECK (max_uses >= 1),
    used       INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= max_uses),
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX link_use_expires_at ON link_use (expires_at);

-- One row per password-protected link: an Argon2id hash (crypto_pwhash_str), never the password,
-- and the failure count and lockout that slow down guessing.
CREATE TABLE link_password (
    link_id      BLOB    PRIMARY KEY CHECK (length(link_id) = 16),
    hash         TEXT    NOT NULL CHECK (hash LIKE '$argon2id$%'),
    failures     INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    lockouts     INTEGER NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
    locked_until INTEGER NOT NULL DEFAULT 0,
    expires_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX link_password_expires_at ON link_password (expires_at);
